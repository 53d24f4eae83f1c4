using Testbed.Chaos.Proxy;
using Testbed.Contracts.Settings;

namespace Testbed.Chaos.Hosting;

/// <summary>
/// Settings under the <c>Chaos</c> configuration section (environment: <c>Chaos__ScenariosFile</c>, <c>Chaos__LoopbackPlan</c>),
/// named in <see cref="ChaosSettings"/>; read once at start and shared by the chaos services, so they cannot change afterwards.
/// </summary>
/// <param name="ScenariosFile">The scenarios file; empty: scenarios.yaml in the first directory above the content root that has one.</param>
/// <param name="LoopbackPlan">
/// The loopback plan the peers were given, as "127.A.B" (peer-N binds 127.A.B.N and is reached at 127.A.(B+1).N through
/// the proxy); empty: no proxy, network steps fail saying why.
/// </param>
/// <param name="ControlApiUrl">The control API's base URL; empty: service discovery's <c>services:apphost:http:0</c>.</param>
/// <param name="RunsDirectory">
/// Where each run gets its directory (<c>RUN-ID/history.jsonl</c> and <c>RUN-ID/report.json</c>); empty:
/// <c>testbed-chaos-runs</c> in the temporary directory. Only the newest <see cref="Api.RunRegistry.MaxRuns"/> are kept.
/// </param>
public sealed record ChaosOptions(string? ScenariosFile = null, string? LoopbackPlan = null, string? ControlApiUrl = null, string? RunsDirectory = null)
{
    /// <summary>The runs directory to use.</summary>
    public string ResolveRunsDirectory() =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(RunsDirectory) ? Path.Combine(Path.GetTempPath(), "testbed-chaos-runs") : RunsDirectory);

    /// <summary>Parses <see cref="LoopbackPlan"/>; throws naming the setting when it is malformed.</summary>
    public LoopbackPlan? ParsePlan()
    {
        if (string.IsNullOrWhiteSpace(LoopbackPlan))
        {
            return null;
        }

        var parts = LoopbackPlan.Split('.');
        if (parts.Length != 3 || parts[0] != "127" || !byte.TryParse(parts[1], out var a) || !byte.TryParse(parts[2], out var b) || b == 255)
        {
            throw new ArgumentException($"{ChaosSettings.LoopbackPlan.Key} must look like 127.A.B (B below 255), not '{LoopbackPlan}'");
        }

        return new LoopbackPlan(a, b);
    }

    /// <summary>The scenarios file to use.</summary>
    public string ResolveScenariosFile(string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(ScenariosFile))
        {
            return Path.GetFullPath(ScenariosFile, contentRoot);
        }

        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scenarios.yaml");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine(contentRoot, "scenarios.yaml");
    }
}
