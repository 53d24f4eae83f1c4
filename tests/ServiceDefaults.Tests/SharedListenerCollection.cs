namespace ServiceDefaults.Tests;

/// <summary>
/// ASP.NET Core's server spans come from one process-wide diagnostic source, so a test that counts spans sees every
/// app's requests: the test classes that serve requests run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedListenerCollection
{
    public const string Name = "Process-wide ASP.NET Core spans";
}
