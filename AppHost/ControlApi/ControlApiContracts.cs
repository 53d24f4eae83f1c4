using Testbed.AppHost.Orchestration;

namespace Testbed.AppHost.ControlApi;

/// <summary>Body of every 4xx answer: what was wrong, in words.</summary>
public sealed record ControlApiError(string Error);

/// <summary>Answer to POST /api/resources/{name}/commands/{command}: the resource after the command completed.</summary>
public sealed record CommandResult(string Name, string Command, ResourceSnapshot Resource);

/// <summary>Answer to GET /api/resources/{name}/console: the last lines, and how many were ever written.</summary>
public sealed record ConsoleTail(string Name, long TotalLines, IReadOnlyList<ConsoleLine> Lines);

/// <summary>Answer to GET /api/apphost: who runs, and the ports reserved for the dashboard.</summary>
public sealed record AppHostInfo(
    int Pid,
    string? ControlApiUrl,
    int DashboardUiPort,
    int DashboardOtlpGrpcPort,
    int DashboardOtlpHttpPort,
    string? OtlpEndpoint,
    IReadOnlyList<string> Commands);
