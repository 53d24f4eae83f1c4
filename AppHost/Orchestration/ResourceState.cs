using System.Text.Json.Serialization;

namespace Testbed.AppHost.Orchestration;

/// <summary>Lifecycle states of a resource's process, named as Aspire's KnownResourceStates.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ResourceState>))]
public enum ResourceState
{
    /// <summary>Defined, never launched (or waiting for a dependency).</summary>
    NotStarted,

    /// <summary>Launched; not yet answering its health check.</summary>
    Starting,

    /// <summary>Process up and healthy (or without a health check).</summary>
    Running,

    /// <summary>Process up, but its health check failed repeatedly after it had been running (hung, paused, overloaded).</summary>
    RuntimeUnhealthy,

    /// <summary>A stop was requested: SIGTERM sent, waiting for the process to end.</summary>
    Stopping,

    /// <summary>Process ended after it had been running (stopped, killed or crashed; see the exit code).</summary>
    Exited,

    /// <summary>Could not be launched, ended before its first healthy probe, never became healthy, or a dependency failed.</summary>
    FailedToStart,
}

/// <summary>Result of the resource's health check.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HealthStatus>))]
public enum HealthStatus
{
    /// <summary>Not probed yet, or the process is not running.</summary>
    Unknown,

    /// <summary>Last probe answered 2xx (or the resource has no health check and runs).</summary>
    Healthy,

    /// <summary>Last probes failed.</summary>
    Unhealthy,
}

/// <summary>Helpers over <see cref="ResourceState"/>.</summary>
public static class ResourceStates
{
    /// <summary>True when no process runs and none will without a command.</summary>
    public static bool IsTerminal(this ResourceState state) => state is ResourceState.Exited or ResourceState.FailedToStart;

    /// <summary>True while a process exists for the resource.</summary>
    public static bool HasProcess(this ResourceState state) =>
        state is ResourceState.Starting or ResourceState.Running or ResourceState.RuntimeUnhealthy or ResourceState.Stopping;
}
