using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Testbed.Contracts.Settings;
using Testbed.Tracker.Hosting;

namespace Testbed.Cli.Commands;

/// <summary>`testbed tracker --http HOST:PORT [--udp HOST:PORT]`: the tracker service, standalone.</summary>
internal static class TrackerCommand
{
    public static Command Create()
    {
        var http = new Option<string>("--http") { Description = "HTTP announce/scrape endpoint, HOST:PORT (e.g. 127.0.0.1:6969)", Required = true };
        var udp = new Option<string?>("--udp") { Description = "UDP (BEP 15) endpoint, HOST:PORT; no UDP tracker when omitted" };
        var interval = CliOptions.Integer("--interval", "Seconds between regular announces (default 1800)", TrackerSettings.Interval);
        var minInterval = CliOptions.Integer(
            "--min-interval", "Seconds a client must wait at least between announces (default 60)", TrackerSettings.MinInterval);
        var command = new Command("tracker", "Run the BitTorrent tracker (HTTP and optionally UDP) until Ctrl+C")
        {
            http,
            udp,
            interval,
            minInterval,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new Dictionary<string, string?>();
            string url;
            try
            {
                var httpEndPoint = HostPort.Parse(parseResult.GetValue(http)!);
                url = HostPort.ToHttpUrl(httpEndPoint);
                // Both ports are tried before the host starts: a busy one is one line naming it, not a host failure.
                ProbePort(httpEndPoint, SocketType.Stream, "--http");
                if (parseResult.GetValue(udp) is { } udpValue)
                {
                    var udpEndPoint = HostPort.Parse(udpValue);
                    ProbePort(udpEndPoint, SocketType.Dgram, "--udp");
                    settings[TrackerSettings.Udp.Key] = udpEndPoint.ToString();
                }
            }
            catch (FormatException e)
            {
                throw new CliUsageException(e.Message);
            }

            if (parseResult.GetValue(interval) is { } seconds)
            {
                settings[TrackerSettings.Interval.Key] = TrackerSettings.Interval.Format(seconds);
            }

            if (parseResult.GetValue(minInterval) is { } minSeconds)
            {
                settings[TrackerSettings.MinInterval.Key] = TrackerSettings.MinInterval.Format(minSeconds);
            }

            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.WebHost.UseUrls(url);
            builder.AddServiceDefaults();
            builder.AddTracker();
            // A failure to start is reported once, by CliErrors, in one line: not also by the host's log with its stack trace.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
            var app = builder.Build();
            app.MapDefaultEndpoints();
            app.MapTracker();
            try
            {
                await app.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (e.InnerException is SocketException socket)
            {
                // Kestrel's "failed to bind": the port was taken between the probe and the start.
                throw new CliUsageException($"--http {url}: {CliErrors.Describe(socket).Message}");
            }

            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>Binds and releases <paramref name="endPoint"/>; throws <see cref="CliUsageException"/> naming the option when it cannot.</summary>
    private static void ProbePort(IPEndPoint endPoint, SocketType type, string option)
    {
        if (endPoint.Port == 0)
        {
            return;
        }

        using var socket = new Socket(endPoint.AddressFamily, type, type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp);
        // As Kestrel binds: a port left in TIME_WAIT is free, one with a listener is not.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, type == SocketType.Stream);
        try
        {
            socket.Bind(endPoint);
        }
        catch (SocketException e)
        {
            throw new CliUsageException($"{option} {endPoint}: cannot listen there: {CliErrors.Describe(e).Message}");
        }
    }
}
