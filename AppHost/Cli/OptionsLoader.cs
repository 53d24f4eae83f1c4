using Microsoft.Extensions.Configuration;
using Testbed.AppHost.AppModel;

namespace Testbed.AppHost.Cli;

/// <summary>Reads <see cref="AppHostOptions"/> from the AppHost project's appsettings.json, then TESTBED_-prefixed environment variables.</summary>
internal static class OptionsLoader
{
    /// <summary>Options before command-line overrides; an unreadable appsettings.json throws naming the file.</summary>
    public static AppHostOptions Load()
    {
        var path = Path.Combine(new AppHostOptions().ResolveProjectDirectory(), "appsettings.json");
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(path, optional: true)
                // TESTBED_AppHost__Peers=8 and the like, as ASP.NET's double-underscore convention.
                .AddEnvironmentVariables("TESTBED_")
                .Build();
            var options = new AppHostOptions();
            configuration.GetSection(AppHostOptions.SectionName).Bind(options);
            return options;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or InvalidOperationException)
        {
            throw new ArgumentException($"Cannot read the AppHost configuration ({path} or TESTBED_ variables): {e.Message}", e);
        }
    }
}
