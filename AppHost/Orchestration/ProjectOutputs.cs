using System.Diagnostics;
using System.Security;
using System.Text;
using System.Text.RegularExpressions;

namespace Testbed.AppHost.Orchestration;

/// <summary>The built dll of each project: one msbuild run over all of them, or the conventional bin path without building.</summary>
internal static partial class ProjectOutputs
{
    private const string Marker = "TESTBED_TARGET_PATH=";

    /// <summary>Builds <paramref name="projectFiles"/> in one msbuild invocation (restore, then parallel build) and returns each dll.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> BuildAsync(
        IReadOnlyCollection<string> projectFiles, string configuration, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("testbed-apphost-build-");
        try
        {
            // A traversal project: one evaluation of shared dependencies (ServiceDefaults, libraries) instead of one per service.
            var traversal = Path.Combine(work.FullName, "build.proj");
            var items = string.Concat(projectFiles.Select(file => $"    <ProjectToBuild Include=\"{SecurityElement.Escape(file)}\" />\n"));
            await File.WriteAllTextAsync(traversal, $$"""
                <Project>
                  <ItemGroup>
                {{items}}  </ItemGroup>
                  <Target Name="Restore">
                    <MSBuild Projects="@(ProjectToBuild)" Targets="Restore" />
                  </Target>
                  <Target Name="Build">
                    <MSBuild Projects="@(ProjectToBuild)" Targets="Build" BuildInParallel="true">
                      <Output TaskParameter="TargetOutputs" ItemName="Built" />
                    </MSBuild>
                    <Message Importance="high" Text="{{Marker}}%(Built.MSBuildSourceProjectFile)|%(Built.Identity)" />
                  </Target>
                </Project>
                """, cancellationToken);

            var startInfo = new ProcessStartInfo(DotnetHost.Path)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "msbuild", traversal, "-restore", "-t:Build", "-nologo", "-v:m", "-p:Configuration=" + configuration })
            {
                startInfo.ArgumentList.Add(arg);
            }

            using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet msbuild did not start.");
            var output = new StringBuilder();
            var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
            process.OutputDataReceived += (_, e) => Collect(e.Data);
            process.ErrorDataReceived += (_, e) => Collect(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            if (process.ExitCode != 0)
            {
                throw new ProjectBuildException(
                    $"Building {string.Join(", ", projectFiles.Select(Path.GetFileName))} failed (exit code {process.ExitCode}):{Environment.NewLine}{Tail(output.ToString(), 40)}");
            }

            var missing = projectFiles.Where(file => !outputs.ContainsKey(file)).ToArray();
            if (missing.Length > 0)
            {
                throw new ProjectBuildException($"The build reported no output for {string.Join(", ", missing)}.");
            }

            return outputs;

            void Collect(string? line)
            {
                if (line is null)
                {
                    return;
                }

                lock (output)
                {
                    output.AppendLine(line);
                    var at = line.IndexOf(Marker, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        var parts = line[(at + Marker.Length)..].Split('|', 2);
                        if (parts.Length == 2)
                        {
                            outputs[Path.GetFullPath(parts[0].Trim())] = parts[1].Trim();
                        }
                    }
                }
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Where the SDK puts the dll by default: bin/{configuration}/{framework}/{AssemblyName}.dll.</summary>
    public static string Conventional(string projectFile, string configuration, string targetFramework)
    {
        var assemblyName = Path.GetFileNameWithoutExtension(projectFile);
        var declared = AssemblyNamePattern().Match(File.ReadAllText(projectFile));
        if (declared.Success)
        {
            assemblyName = declared.Groups[1].Value.Trim();
        }

        return Path.Combine(Path.GetDirectoryName(projectFile)!, "bin", configuration, targetFramework, assemblyName + ".dll");
    }

    private static string Tail(string text, int lines) =>
        string.Join(Environment.NewLine, text.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).TakeLast(lines));

    [GeneratedRegex("<AssemblyName>([^<$]+)</AssemblyName>")]
    private static partial Regex AssemblyNamePattern();
}

/// <summary>The services could not be built; the message carries the compiler's last lines.</summary>
public sealed class ProjectBuildException(string message) : Exception(message);
