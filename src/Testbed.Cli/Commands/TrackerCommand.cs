using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Testbed.Tracker.Hosting;

namespace Testbed.Cli.Commands;

/// <summary>`testbed tracker --http HOST:PORT [--udp HOST:PORT]`: the tracker service, standalone.</summary>
internal static class TrackerCommand
{
    public static Command Create()
    {
        var http = new Option<string>("--http") { Description = "HTTP announce/scrape endpoint, HOST:PORT (e.g. 127.0.0.1:6969)", Required = true };
        var udp = new Option<string?>("--udp") { Description = "UDP (BEP 15) endpoint, HOST:PORT; no UDP tracker when omitted" };
        var interval = new Option<int?>("--interval") { Description = "Seconds between regular announces (default 1800)" };
        var minInterval = new Option<int?>("--min-interval") { Description = "Seconds a client must wait at least between announces (default 60)" };
        var command = new Command("tracker", "Run the BitTorrent tracker (HTTP and optionally UDP) until Ctrl+C");
        command.Options.Add(http);
        command.Options.Add(udp);
        command.Options.Add(interval);
        command.Options.Add(minInterval);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new Dictionary<string, string?>();
            string url;
            try
            {
                url = HostPort.ToHttpUrl(HostPort.Parse(parseResult.GetValue(http)!));
                if (parseResult.GetValue(udp) is { } udpValue)
                {
                    settings["Tracker:Udp"] = HostPort.Parse(udpValue).ToString();
                }
            }
            catch (FormatException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            if (parseResult.GetValue(interval) is { } seconds)
            {
                settings["Tracker:Interval"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (parseResult.GetValue(minInterval) is { } minSeconds)
            {
                settings["Tracker:MinInterval"] = minSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            WebApplication app;
            try
            {
                var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
                builder.Configuration.AddInMemoryCollection(settings);
                builder.WebHost.UseUrls(url);
                builder.AddServiceDefaults();
                builder.AddTracker();
                app = builder.Build();
                app.MapDefaultEndpoints();
                app.MapTracker();
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            await app.RunAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
