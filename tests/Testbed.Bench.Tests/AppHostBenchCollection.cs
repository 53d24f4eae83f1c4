namespace Testbed.Bench.Tests;

/// <summary>The Aspire benches run one at a time: each starts a tracker and several peers on a 2-core machine.</summary>
[CollectionDefinition(nameof(AppHostBenchCollection), DisableParallelization = true)]
public sealed class AppHostBenchCollection;
