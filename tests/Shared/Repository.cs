namespace Testbed.TestSupport;

/// <summary>The repository the tests were built from, and the programs built in it with the same configuration.</summary>
internal static class Repository
{
    /// <summary>The directory holding Testbed.sln.</summary>
    public static string Root { get; } = Find();

    /// <summary>The AppHost as built with these tests.</summary>
    public static string AppHostDll => Built("AppHost", "AppHost.dll");

    /// <summary>The Aspire benches (startup, propagation, sync) as built with these tests.</summary>
    public static string BenchAppHostDll => Built(Path.Combine("bench", "Testbed.Bench.AppHost"), "Testbed.Bench.AppHost.dll");

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary><paramref name="dll"/> in the output of the project in <paramref name="projectDirectory"/> (relative to the root).</summary>
    private static string Built(string projectDirectory, string dll) => Path.Combine(Root, projectDirectory, "bin", Configuration, "net10.0", dll);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Testbed.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Testbed.sln above {AppContext.BaseDirectory}");
    }
}
