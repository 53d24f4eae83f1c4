using System.Net.Sockets;

namespace Testbed.Cli.Tests.BadInput;

/// <summary>`testbed tracker --http HOST:PORT [--udp HOST:PORT]` against busy ports and unusable arguments.</summary>
public sealed class TrackerBadInputTests
{
    [Fact]
    public async Task A_busy_http_port_is_one_line_printed_once_exit_2()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var outcome = await CliProcess.FailsAsync(2, ["tracker", "--http", busy.LocalEndpoint.ToString()!], "--http", "already in use");
        Assert.Equal(string.Empty, outcome.Stdout.Trim());
    }

    [Fact]
    public async Task A_busy_udp_port_is_one_line_exit_2()
    {
        using var busy = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var free = new TcpListener(IPAddress.Loopback, 0);
        free.Start();
        var http = free.LocalEndpoint.ToString()!;
        free.Stop();
        await CliProcess.FailsAsync(2, ["tracker", "--http", http, "--udp", busy.Client.LocalEndPoint!.ToString()!], "--udp", "already in use");
    }

    [Theory]
    [InlineData("--http", "nonsense")]
    [InlineData("--http", "127.0.0.1:70000")]
    [InlineData("--http", "example.com:80")]
    [InlineData("--http", "")]
    [InlineData("--interval", "abc")]
    [InlineData("--min-interval", "-1")]
    public async Task Unusable_arguments_name_the_option(string option, string value)
    {
        string[] args = option == "--http" ? ["tracker", "--http", value] : ["tracker", "--http", "127.0.0.1:0", option, value];
        var outcome = await CliProcess.RunAsync(args);
        CliProcess.AssertFails(outcome, 2, $"tracker {option} {value}");
        Assert.DoesNotContain("System.", outcome.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generated_addresses_never_end_in_a_stack_trace()
    {
        foreach (var (name, value) in BadInputs.ArgumentStrings(10, BadInputs.Seed))
        {
            var outcome = await CliProcess.RunAsync(["tracker", "--http", value], timeout: TimeSpan.FromSeconds(60));
            CliProcess.AssertFails(outcome, 2, $"tracker --http <{name}>");
        }
    }
}
