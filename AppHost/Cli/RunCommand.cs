using System.Diagnostics;
using Spectre.Console;
using Testbed.Dashboard;
using Testbed.AppHost.AppModel;
using Testbed.AppHost.Orchestration;

namespace Testbed.AppHost.Cli;

/// <summary>The default command: build, start in order, print the resources, run until a signal, stop in order.</summary>
internal static class RunCommand
{
    public static async Task<int> RunAsync(AppHostOptions options, Action<DistributedApplicationBuilder> defineModel)
    {
        using var signals = new ShutdownSignals();
        DashboardHost dashboard;
        try
        {
            // Started before the services so the OTLP receivers are up when the first one exports.
            dashboard = await DashboardHost.StartAsync(DashboardSettings(options), signals.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"error: the dashboard could not start: {e.Message}");
            return 1;
        }

        await using var dashboardLifetime = dashboard;
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            options.OtlpEndpoint = dashboard.OtlpGrpcUrl.ToString();
            options.OtlpProtocol = "grpc";
        }

        var builder = DistributedApplicationBuilder.Create(options);
        defineModel(builder);
        await using var app = builder.Build();
        if (options.EchoConsole)
        {
            foreach (var instance in app.Instances)
            {
                var name = instance.Name;
                instance.Console.LineAppended += line => Console.WriteLine($"{name,-10} | {line.Text}");
            }
        }

        var clock = Stopwatch.StartNew();
        try
        {
            AnsiConsole.MarkupLine(options.Build
                ? "[grey]Building the services, then starting them in dependency order...[/]"
                : "[grey]Starting the services in dependency order...[/]");
            await app.StartAsync(signals.Token);
        }
        catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("[yellow]Interrupted during start-up; stopping.[/]");
        }
        catch (ProjectBuildException e)
        {
            AnsiConsole.MarkupLine("[red]Build failed.[/]");
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
        catch (InvalidOperationException e)
        {
            // The control API's port is taken, or the like: nothing was started, say why.
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }

        if (!signals.Token.IsCancellationRequested)
        {
            dashboard.SetControlApiUrl(app.ControlApiUrl!);
            Report(app, dashboard, clock.Elapsed);
            app.ResourceChanged += snapshot => AnsiConsole.MarkupLine(
                $"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(snapshot.Name)}: [{ResourceTable.Colour(snapshot.State)}]{snapshot.State}[/]" +
                $"{(snapshot.Paused ? " (paused)" : "")}{(snapshot.Message is null ? "" : " - " + Markup.Escape(snapshot.Message))}");
            try
            {
                await Task.Delay(Timeout.Infinite, signals.Token);
            }
            catch (OperationCanceledException)
            {
                // A signal: fall through to the ordered stop.
            }
        }

        AnsiConsole.MarkupLine($"[grey]{signals.Received?.ToString() ?? "Shutdown"}: stopping resources in order...[/]");
        var stopping = Stopwatch.StartNew();
        await app.StopAsync();
        AnsiConsole.MarkupLine($"[grey]Stopped in {stopping.Elapsed.TotalSeconds:0.00} s.[/]");
        return 0;
    }

    private static DashboardHostOptions DashboardSettings(AppHostOptions options)
    {
        var ports = options.Dashboard;
        return new DashboardHostOptions
        {
            UiUrl = new Uri($"http://127.0.0.1:{ports.UiPort}"),
            OtlpGrpcUrl = new Uri($"http://127.0.0.1:{ports.OtlpGrpcPort}"),
            OtlpHttpUrl = new Uri($"http://127.0.0.1:{ports.OtlpHttpPort}"),
            ForwardUrl = string.IsNullOrWhiteSpace(ports.ForwardUrl) ? null : new Uri(ports.ForwardUrl),
            ForwardProtocol = ports.ForwardProtocol,
        };
    }

    private static void Report(DistributedApplication app, DashboardHost dashboard, TimeSpan elapsed)
    {
        var resources = app.Snapshot();
        AnsiConsole.Write(ResourceTable.Render(resources));
        AnsiConsole.MarkupLine($"Started in {elapsed.TotalSeconds:0.00} s. Control API: [link]{app.ControlApiUrl}api/resources[/]");
        // One unwrapped line for scripts and tests (the table above wraps to the terminal's width).
        Console.WriteLine($"control-api: {app.ControlApiUrl}");
        AnsiConsole.MarkupLine($"Dashboard: [link]{dashboard.UiUrl}[/] (OTLP/gRPC {dashboard.OtlpGrpcUrl}, OTLP/HTTP {dashboard.OtlpHttpUrl})");
        Console.WriteLine($"dashboard: {dashboard.UiUrl}");
        foreach (var failed in resources.Where(resource => resource.State is ResourceState.FailedToStart or ResourceState.Exited))
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(failed.Name)} {failed.State}[/]: {Markup.Escape(failed.Message ?? "")}");
            AnsiConsole.WriteLine(app.GetInstance(failed.Name).Console.TailText(15));
        }

        AnsiConsole.MarkupLine("[grey]Ctrl+C stops everything.[/]");
    }
}
