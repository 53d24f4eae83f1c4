using System.Globalization;
using Testbed.Processes;

namespace Testbed.Cli.Tests.Processes;

/// <summary>The one process launcher of the tests and benches, on /bin/sh: output, environment, input, failures and the tree kill.</summary>
public sealed class ChildProcessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_run_returns_its_exit_code_and_each_stream_and_a_failure_names_the_command_with_the_tail_of_stderr()
    {
        var run = await ChildProcess.RunAsync("/bin/sh", ["-c", "echo out; for i in $(seq 1 100); do echo err$i >&2; done; exit 3"], Bound);
        Assert.Equal(3, run.ExitCode);
        Assert.Equal("out\n", run.StandardOutput);
        Assert.StartsWith("err1\n", run.StandardError, StringComparison.Ordinal);

        var failure = Assert.Throws<InvalidOperationException>(() => run.EnsureSuccess());
        Assert.Contains("/bin/sh -c", failure.Message, StringComparison.Ordinal);
        Assert.Contains("exited with code 3: err61\nerr62\n", failure.Message, StringComparison.Ordinal);
        Assert.EndsWith("err100", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("err60\n", failure.Message, StringComparison.Ordinal);

        var ok = await ChildProcess.RunAsync("/bin/sh", ["-c", "true"], Bound);
        Assert.Same(ok, ok.EnsureSuccess());
    }

    [Fact]
    public async Task Output_is_kept_bounded_to_its_newest_characters_and_lines()
    {
        var options = new ChildProcessOptions { KeptChars = 1000, KeptLines = 10 };
        await using var child = ChildProcess.Start("/bin/sh", ["-c", "for i in $(seq 1 20000); do echo line$i; done"], options);
        await child.WaitForExitAsync(Bound);
        Assert.Equal(1000, child.StandardOutput.Length);
        Assert.EndsWith("line20000\n", child.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(19991, 10).Select(i => "line" + i.ToString(CultureInfo.InvariantCulture)), child.Lines);
        Assert.Equal("line1", await child.FirstLine);
    }

    [Fact]
    public async Task The_environment_is_set_and_removed_the_directory_is_used_and_input_is_read()
    {
        var directory = Directory.CreateTempSubdirectory("child-process-").FullName;
        try
        {
            // A variable of our own: a shell gives PATH a default when it is removed, so removing PATH proves nothing.
            const string inherited = "CHILD_PROCESS_TEST_INHERITED";
            Environment.SetEnvironmentVariable(inherited, "inherited");
            var options = new ChildProcessOptions
            {
                WorkingDirectory = directory,
                Environment = new Dictionary<string, string?> { ["CHILD_PROCESS_TEST"] = "set", [inherited] = null },
            };
            var run = await ChildProcess.RunAsync("/bin/sh", ["-c", $"echo $CHILD_PROCESS_TEST ${{{inherited}-gone}} $(pwd); cat"], Bound, options, "piped in"u8.ToArray());
            Assert.Equal($"set gone {directory}\npiped in", run.EnsureSuccess().StandardOutput);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_run_past_its_timeout_is_an_error_and_leaves_no_process_of_its_tree()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), "child-process-" + Guid.NewGuid().ToString("N"));
        try
        {
            var timeout = await Assert.ThrowsAsync<TimeoutException>(() =>
                ChildProcess.RunAsync("/bin/sh", ["-c", $"sleep 300 & echo $! > {pidFile}; echo started; wait"], TimeSpan.FromSeconds(2)));
            Assert.Contains("did not finish within 2 s", timeout.Message, StringComparison.Ordinal);
            Assert.Contains("started", timeout.Message, StringComparison.Ordinal);
            await AssertGoneAsync(int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task Dispose_kills_the_whole_tree_of_a_process_still_running()
    {
        int grandchild;
        await using (var child = ChildProcess.Start("/bin/sh", ["-c", "sleep 300 & echo $!; wait"]))
        {
            grandchild = int.Parse(await child.FirstLine.WaitAsync(Bound), CultureInfo.InvariantCulture);
            Assert.True(Directory.Exists($"/proc/{grandchild}"));
        }

        await AssertGoneAsync(grandchild);
    }

    [Fact]
    public void A_program_that_cannot_start_is_named_in_the_error()
    {
        var failure = Assert.Throws<InvalidOperationException>(() => ChildProcess.Start("/nonexistent/program", []));
        Assert.Contains("/nonexistent/program could not be started", failure.Message, StringComparison.Ordinal);
    }

    // Killed is gone or a zombie (an orphan waits for init to reap it); polled, since the kill is asynchronous.
    private static async Task AssertGoneAsync(int pid)
    {
        var path = $"/proc/{pid}/stat";
        for (var i = 0; i < 100 && File.Exists(path); i++)
        {
            try
            {
                var stat = await File.ReadAllTextAsync(path);
                if (stat[stat.LastIndexOf(')') + 2] == 'Z')
                {
                    return;
                }
            }
            catch (IOException)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.False(File.Exists(path), $"process {pid} of the child's tree is still running");
    }
}
