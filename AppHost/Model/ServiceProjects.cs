using System.Reflection;

namespace Testbed.AppHost.Model;

/// <summary>
/// Project metadata of the peer and chaos services. Both are also libraries of the AppHost (the headless verbs run the
/// chaos executor, and the bench AppHost's sync mines its chain with the peer's settings), so their references carry
/// IsAspireProjectResource=false and the SDK generates no <c>Projects.*</c> type for them; these stand in, like the
/// generated ones: the AppHost's build builds them, so a start or restart runs them without building again.
/// </summary>
internal static class ServiceProjects
{
    /// <summary>The repository root, recorded at build time.</summary>
    public static string RepositoryRoot { get; } = typeof(ServiceProjects).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "TestbedRepositoryRoot").Value!;

    /// <summary>src/Testbed.Peer.</summary>
    public sealed class Peer : IProjectMetadata
    {
        /// <inheritdoc />
        public string ProjectPath => Path.Combine(RepositoryRoot, "src", "Testbed.Peer", "Testbed.Peer.csproj");

        /// <inheritdoc />
        public bool SuppressBuild => true;
    }

    /// <summary>src/Testbed.Chaos.</summary>
    public sealed class Chaos : IProjectMetadata
    {
        /// <inheritdoc />
        public string ProjectPath => Path.Combine(RepositoryRoot, "src", "Testbed.Chaos", "Testbed.Chaos.csproj");

        /// <inheritdoc />
        public bool SuppressBuild => true;
    }
}
