using Testbed.Bench.AppHost;

// `startup|propagation|sync`: the testbed's app model run headless, measured beside its anchors. Exit codes: 0 the target
// was met, 1 not (or a check failed), 2 unusable arguments.
var root = new RootCommand("Measure the testbed's Aspire app model beside its anchors, measured in the same run");
root.Subcommands.Add(BenchStartupCommand.Create());
root.Subcommands.Add(BenchPropagationCommand.Create());
root.Subcommands.Add(BenchSyncCommand.Create());

return await HeadlessCommandLine.InvokeAsync(root, args);
