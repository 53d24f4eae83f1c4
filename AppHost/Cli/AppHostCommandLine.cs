using System.CommandLine;
using Testbed.AppHost.AppModel;

namespace Testbed.AppHost.Cli;

/// <summary>The AppHost's command line: run the testbed (default), <c>bench ...</c>, or <c>scenario list|run</c>.</summary>
public static class AppHostCommandLine
{
    /// <summary>Parses <paramref name="args"/> and runs; <paramref name="defineModel"/> adds the resources. Exit codes: 0, 1 failed, 2 bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args, Action<DistributedApplicationBuilder> defineModel)
    {
        var peers = new Option<int?>("--peers") { Description = "Number of peer replicas (peer-1..peer-N); default from appsettings.json" };
        var difficulty = new Option<int?>("--difficulty") { Description = "Proof-of-work difficulty of every peer in leading zero bits (1..64); default: the peer's (16)" };
        var noBuild = new Option<bool>("--no-build") { Description = "Start the services' dlls as built, without running msbuild first" };
        var controlPort = new Option<int?>("--control-port") { Description = "Port of the control API on 127.0.0.1 (0: a free port); default 18887" };
        var otlp = new Option<string?>("--otlp-endpoint") { Description = "OTLP endpoint handed to every service (OTEL_EXPORTER_OTLP_ENDPOINT); default none" };
        var echo = new Option<bool>("--console") { Description = "Echo every service's console output, prefixed with its resource name" };
        var dashboardPort = new Option<int?>("--dashboard-port") { Description = "Dashboard UI port on 127.0.0.1 (0: a free port); default 18888" };
        var otlpGrpcPort = new Option<int?>("--otlp-grpc-port") { Description = "Dashboard OTLP/gRPC receiver port (0: a free port); default 18889" };
        var otlpHttpPort = new Option<int?>("--otlp-http-port") { Description = "Dashboard OTLP/HTTP receiver port (0: a free port); default 18890" };
        var otlpForward = new Option<string?>("--otlp-forward") { Description = "Also forward all telemetry to this OTLP endpoint (e.g. the standalone Aspire dashboard or Jaeger)" };

        var root = new RootCommand("Testbed AppHost: builds and starts the tracker, peers and chaos controller as processes, with a control API");
        foreach (var option in new Option[] { peers, difficulty, noBuild, controlPort, otlp, echo, dashboardPort, otlpGrpcPort, otlpHttpPort, otlpForward })
        {
            root.Options.Add(option);
        }

        AppHostOptions Options(ParseResult parse)
        {
            var options = OptionsLoader.Load();
            options.Peers = parse.GetValue(peers) ?? options.Peers;
            options.DifficultyBits = parse.GetValue(difficulty) ?? options.DifficultyBits;
            options.Build = options.Build && !parse.GetValue(noBuild);
            options.ControlApiPort = parse.GetValue(controlPort) ?? options.ControlApiPort;
            options.OtlpEndpoint = parse.GetValue(otlp) ?? options.OtlpEndpoint;
            options.EchoConsole = options.EchoConsole || parse.GetValue(echo);
            options.Dashboard.UiPort = parse.GetValue(dashboardPort) ?? options.Dashboard.UiPort;
            options.Dashboard.OtlpGrpcPort = parse.GetValue(otlpGrpcPort) ?? options.Dashboard.OtlpGrpcPort;
            options.Dashboard.OtlpHttpPort = parse.GetValue(otlpHttpPort) ?? options.Dashboard.OtlpHttpPort;
            options.Dashboard.ForwardUrl = parse.GetValue(otlpForward) ?? options.Dashboard.ForwardUrl;
            options.Validate();
            return options;
        }

        root.SetAction(async (parse, _) => await RunCommand.RunAsync(Options(parse), defineModel));

        var bench = new Command("bench", "Measure the AppHost and compare with its targets in the same run");
        bench.Subcommands.Add(BenchStartupCommand.Create(peers, noBuild, Options, defineModel));
        bench.Subcommands.Add(Testbed.Peer.Bench.PeerBenchCommands.Propagation());
        bench.Subcommands.Add(Testbed.Peer.Bench.PeerBenchCommands.Sync());
        bench.Subcommands.Add(Testbed.Dashboard.Benchmarks.DashboardBenchCommand.Create());
        root.Subcommands.Add(bench);
        root.Subcommands.Add(Testbed.Chaos.Cli.ScenarioCommands.Create(
            (topology, plan, ct) => ScenarioTestbed.StartAsync(OptionsLoader.Load(), topology, plan, ct)));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}");
            }

            return 2;
        }

        try
        {
            // No termination timeout: the AppHost handles SIGINT and SIGTERM itself and stops its resources in order.
            return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 2;
        }
    }
}
