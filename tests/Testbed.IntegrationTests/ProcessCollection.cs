namespace Testbed.IntegrationTests;

/// <summary>Tests that start real processes run one at a time: the machine has two cores and the timings stay honest.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "Real processes";
}
