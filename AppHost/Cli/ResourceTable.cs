using Spectre.Console;
using Testbed.AppHost.Orchestration;

namespace Testbed.AppHost.Cli;

/// <summary>The resources as a console table: name, state, health, pid and URLs.</summary>
internal static class ResourceTable
{
    public static Table Render(IEnumerable<ResourceSnapshot> resources)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("Resource").AddColumn("State").AddColumn("Health").AddColumn(new TableColumn("PID").RightAligned()).AddColumn("Endpoints");
        foreach (var resource in resources)
        {
            table.AddRow(
                Markup.Escape(resource.Name),
                $"[{Colour(resource.State)}]{resource.State}{(resource.Paused ? " (paused)" : "")}[/]",
                resource.Health.ToString(),
                resource.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                Markup.Escape(string.Join("  ", resource.Urls.Select(pair => $"{pair.Key} {pair.Value}"))));
        }

        return table;
    }

    public static string Colour(ResourceState state) => state switch
    {
        ResourceState.Running => "green",
        ResourceState.Starting or ResourceState.Stopping or ResourceState.NotStarted => "yellow",
        ResourceState.RuntimeUnhealthy => "darkorange",
        _ => "red",
    };
}
