using System.Runtime.InteropServices;

namespace Testbed.AppHost.Orchestration;

/// <summary>POSIX signals .NET's Process has no method for: SIGTERM (graceful stop), SIGSTOP and SIGCONT (pause, resume).</summary>
internal static partial class ProcessSignals
{
    public const int SigTerm = 15;
    public const int SigStop = 19;
    public const int SigCont = 18;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when the process is gone.</summary>
    public static bool Send(int pid, int signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            throw new PlatformNotSupportedException("Sending POSIX signals needs a Unix-like OS.");
        }

        // SIGSTOP and SIGCONT are 17 and 19 on BSD-derived systems; the numbers above are Linux's.
        if (!OperatingSystem.IsLinux() && signal is SigStop or SigCont)
        {
            signal = signal == SigStop ? 17 : 19;
        }

        return Kill(pid, signal) == 0;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
