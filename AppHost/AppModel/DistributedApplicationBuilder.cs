using Testbed.AppHost.Orchestration;

namespace Testbed.AppHost.AppModel;

/// <summary>Collects the app model (resources, endpoints, references, waits), as Aspire's DistributedApplication.CreateBuilder does.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<ProjectResource> _resources = [];
    private readonly string _projectDirectory;

    private DistributedApplicationBuilder(AppHostOptions options)
    {
        options.Validate();
        Options = options;
        _projectDirectory = options.ResolveProjectDirectory();
    }

    /// <summary>The run's settings (peers, ports, timeouts); read them while defining the model.</summary>
    public AppHostOptions Options { get; }

    /// <summary>The AppHost's control API, referencable by services that drive it (dashboard, chaos controller).</summary>
    public ControlApiResource ControlApi { get; } = new();

    /// <summary>The resources defined so far, in definition order.</summary>
    public IReadOnlyList<ProjectResource> Resources => _resources;

    /// <summary>A builder for <paramref name="options"/> (validated; bad values throw naming the setting).</summary>
    public static DistributedApplicationBuilder Create(AppHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new DistributedApplicationBuilder(options);
    }

    /// <summary>Adds a .NET project (a .csproj, or a directory holding exactly one) with one "http" endpoint.</summary>
    /// <param name="name">Resource name: a letter, then lowercase letters, digits and hyphens.</param>
    /// <param name="projectPath">Absolute, or relative to the AppHost project directory (<c>../src/Testbed.Tracker</c>).</param>
    public ProjectResourceBuilder AddProject(string name, string projectPath)
    {
        AppHostOptions.Check(ProjectResource.IsValidName(name),
            $"Resource name '{name}' is not valid: use a letter, then lowercase letters, digits and single hyphens (at most 64).");
        AppHostOptions.Check(name != ControlApiResource.ResourceName, $"'{name}' is reserved for the AppHost's control API.");
        AppHostOptions.Check(_resources.TrueForAll(existing => existing.Name != name), $"A resource named '{name}' already exists.");

        var resource = new ProjectResource(name, ResolveProjectFile(name, projectPath));
        _resources.Add(resource);
        return new ProjectResourceBuilder(resource).WithHttpEndpoint();
    }

    /// <summary>Checks the model (unique process names, no wait cycles, known references) and allocates ports.</summary>
    public DistributedApplication Build()
    {
        var instanceNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in _resources)
        {
            foreach (var instance in resource.InstanceNames)
            {
                AppHostOptions.Check(instanceNames.Add(instance), $"Two processes would be named '{instance}': rename a resource or its replicas clash.");
            }

            foreach (var reference in resource.References)
            {
                AppHostOptions.Check(reference is ControlApiResource || _resources.Contains(reference),
                    $"'{resource.Name}' references '{reference.Name}', which is not part of this app model.");
            }

            foreach (var dependency in resource.WaitForResources)
            {
                AppHostOptions.Check(_resources.Contains(dependency), $"'{resource.Name}' waits for '{dependency.Name}', which is not part of this app model.");
            }
        }

        ThrowOnWaitCycle();
        return new DistributedApplication(Options, _resources.ToArray(), ControlApi);
    }

    private string ResolveProjectFile(string name, string projectPath)
    {
        var full = Path.GetFullPath(Path.Combine(_projectDirectory, projectPath));
        if (File.Exists(full) && full.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase))
        {
            return full;
        }

        if (Directory.Exists(full))
        {
            var projects = Directory.GetFiles(full, "*.csproj");
            if (projects.Length == 1)
            {
                return projects[0];
            }

            throw new ArgumentException($"Resource '{name}': {full} holds {projects.Length} .csproj files; name the project file.");
        }

        throw new ArgumentException($"Resource '{name}': no project at '{projectPath}' (resolved to {full}).");
    }

    private void ThrowOnWaitCycle()
    {
        var done = new HashSet<ProjectResource>();
        var onPath = new List<ProjectResource>();

        void Visit(ProjectResource resource)
        {
            if (done.Contains(resource))
            {
                return;
            }

            var index = onPath.IndexOf(resource);
            if (index >= 0)
            {
                var cycle = onPath.Skip(index).Append(resource).Select(r => r.Name);
                throw new ArgumentException("WaitFor cycle: " + string.Join(" -> ", cycle));
            }

            onPath.Add(resource);
            foreach (var dependency in resource.WaitForResources)
            {
                Visit(dependency);
            }

            onPath.RemoveAt(onPath.Count - 1);
            done.Add(resource);
        }

        foreach (var resource in _resources)
        {
            Visit(resource);
        }
    }
}
