namespace Testbed.AppHost.Orchestration;

/// <summary>No resource has the name asked for; the message lists the names that exist.</summary>
public sealed class UnknownResourceException(string message) : KeyNotFoundException(message);

/// <summary>A command that does not apply to the resource in its current state (the control API answers 409).</summary>
public sealed class ResourceCommandException(string message) : InvalidOperationException(message);

/// <summary>A command name that does not exist (the control API answers 400).</summary>
public sealed class UnknownCommandException(string command)
    : ArgumentException($"Unknown command '{command}'. Commands: {string.Join(", ", ResourceCommands.All)}.");
