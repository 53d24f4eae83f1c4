using System.Globalization;
using System.Runtime.InteropServices;

namespace Testbed.AppHost.Control;

/// <summary>
/// POSIX signals to a resource's processes. DCP reports the PID of <c>dotnet run</c>, whose child is the service itself,
/// so a signal goes to the whole tree: SIGKILL to the root alone would orphan the service, SIGSTOP would not pause it.
/// </summary>
internal static partial class ProcessTree
{
    public const int SigKill = 9;
    public const int SigStop = 19;
    public const int SigCont = 18;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="rootPid"/> and all its descendants, children first; returns how many got it.</summary>
    public static int Signal(int rootPid, int signal)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("kill, pause and resume read /proc and send Linux signals.");
        }

        var tree = Descendants(rootPid);
        tree.Reverse();
        tree.Add(rootPid);
        return tree.Count(pid => Kill(pid, signal) == 0);
    }

    /// <summary>Whether every thread of <paramref name="rootPid"/> and its descendants is stopped (or gone) within <paramref name="patience"/>.</summary>
    public static async Task<bool> WaitUntilStoppedAsync(int rootPid, TimeSpan patience, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!Descendants(rootPid).Append(rootPid).All(IsStopped))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Every descendant of <paramref name="rootPid"/>, parents before children.</summary>
    public static List<int> Descendants(int rootPid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || ParentOf(pid) is not { } parent)
            {
                continue;
            }

            if (!children.TryGetValue(parent, out var list))
            {
                children[parent] = list = [];
            }

            list.Add(pid);
        }

        var result = new List<int>();
        var queue = new Queue<int>([rootPid]);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }

        return result;
    }

    /// <summary>Whether every thread of <paramref name="pid"/> is stopped (state T, or t under a tracer); a dead or gone one counts as stopped.</summary>
    private static bool IsStopped(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid}/task").All(task => State(Path.Combine(task, "stat")) is null or 'T' or 't' or 'Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static char? State(string statPath) => StatFields(statPath) is [{ Length: > 0 } state, ..] ? state[0] : null;

    private static int? ParentOf(int pid) =>
        StatFields($"/proc/{pid}/stat") is [_, var ppid, ..] && int.TryParse(ppid, NumberStyles.None, CultureInfo.InvariantCulture, out var parent)
            ? parent
            : null;

    /// <summary>The fields of a /proc stat file after "pid (comm)": state, ppid, ...; null when the process is gone.</summary>
    private static string[]? StatFields(string statPath)
    {
        try
        {
            // comm may itself hold spaces and parentheses, so the fields start after the last ')'.
            var stat = File.ReadAllText(statPath);
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null; // the process ended while the table was read
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
