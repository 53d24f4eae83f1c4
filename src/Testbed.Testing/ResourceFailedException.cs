using Testbed.AppHost.Orchestration;

namespace Testbed.Testing;

/// <summary>A resource failed to start, exited, or never became healthy; the message carries its console tail.</summary>
public sealed class ResourceFailedException : Exception
{
    /// <summary>Builds the message from the failed resources' snapshots and console tails.</summary>
    public ResourceFailedException(string summary, IReadOnlyList<(ResourceSnapshot Resource, string ConsoleTail)> failures)
        : base(Describe(summary, failures))
    {
        Failures = failures.Select(failure => failure.Resource).ToArray();
    }

    /// <summary>The resources that failed, as they were when the failure was seen.</summary>
    public IReadOnlyList<ResourceSnapshot> Failures { get; }

    private static string Describe(string summary, IReadOnlyList<(ResourceSnapshot Resource, string ConsoleTail)> failures) =>
        summary + string.Concat(failures.Select(failure =>
            $"{Environment.NewLine}--- {failure.Resource.Name}: {failure.Resource.State}" +
            $"{(failure.Resource.ExitCode is { } code ? $", exit code {code}" : "")}" +
            $"{(failure.Resource.Message is { } message ? $" ({message})" : "")}; console tail:{Environment.NewLine}{failure.ConsoleTail}"));
}
