using System.Text;
using Testbed.TestSupport.BadInput;

namespace Testbed.Peer.Tests.BadInput;

/// <summary>One real tracker and one real peer process (fault hooks on), shared by the peer API's bad-input cases.</summary>
public sealed class PeerApiFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "testbed-peer-badinput", Guid.NewGuid().ToString("n")[..12]);

    public ServiceProcess Tracker { get; private set; } = null!;

    public ServiceProcess Peer { get; private set; } = null!;

    public string DataDir => Path.Combine(_root, "peer-1");

    public string Root => _root;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        Tracker = ServiceProcess.Start("tracker", ServiceProcess.ProjectDll("Testbed.Tracker"), new Dictionary<string, string>());
        await Tracker.WaitHealthyAsync(PeerNetwork.Patience);
        Peer = ServiceProcess.Start("peer-1", ServiceProcess.ProjectDll("Testbed.Peer"), new Dictionary<string, string>
        {
            ["services__tracker__http__0"] = Tracker.BaseUrl.ToString().TrimEnd('/'),
            [PeerSettings.PeerName.EnvironmentVariable] = "peer-1",
            [PeerSettings.DataDir.EnvironmentVariable] = DataDir,
            [PeerSettings.DifficultyBits.EnvironmentVariable] = "4",
            [PeerSettings.FaultsEnabled.EnvironmentVariable] = "true",
        });
        await Peer.WaitHealthyAsync(PeerNetwork.Patience);
    }

    public async Task DisposeAsync()
    {
        await Peer.DisposeAsync();
        await Tracker.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// The peer's HTTP API (user API and control surface) against bad input: who may call it, body limits before work, bad JSON,
/// bad queries, generated garbage. Every answer is a status with a one-line problem-details detail, never a stack trace, and
/// the peer stays healthy with its memory bounded.
/// </summary>
[Collection(nameof(PeerProcesses))]
public sealed class PeerApiBadInputTests(PeerApiFixture fixture, ITestOutputHelper output) : IClassFixture<PeerApiFixture>
{
    private ServiceProcess Peer => fixture.Peer;

    private static HttpRequestMessage Request(HttpMethod method, string path, string? body = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new(contentType);
        }

        return request;
    }

    /// <summary>Sends with the shared client (which carries the run's secret) or, for a caller without it, a bare one.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, bool secret = true)
    {
        if (!secret)
        {
            using var bare = new HttpClient { BaseAddress = Peer.BaseUrl };
            return await bare.SendAsync(request);
        }

        return await Peer.Http.SendAsync(request);
    }

    /// <summary>Asserts a problem-details answer with a status in the range and a one-line detail; returns the detail.</summary>
    private static async Task<string> ProblemAsync(HttpResponseMessage response, int expected, string context)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expected, $"{context}: expected {expected}, got {(int)response.StatusCode}: {body}");
        BadInputs.AssertNoStackTrace(body, context);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(expected, problem.RootElement.GetProperty("status").GetInt32());
        var detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        Assert.DoesNotContain('\n', detail);
        return detail;
    }

    private async Task AssertHealthyAsync()
    {
        using var health = await Peer.Http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.False(Peer.HasExited);
    }

    private async Task<JsonElement> StatusAsync() => await Peer.Http.GetFromJsonAsync<JsonElement>("status");

    [Fact]
    public async Task A_web_page_pause_with_an_evil_origin_and_text_plain_is_403_and_the_peer_is_not_paused()
    {
        foreach (var secret in new[] { false, true })
        {
            using var request = Request(HttpMethod.Post, "faults/withhold", "{}", "text/plain");
            request.Headers.Add("Origin", "http://evil.example");
            Assert.Contains("another origin", await ProblemAsync(await SendAsync(request, secret), 403, "evil withhold"), StringComparison.Ordinal);

            using var mining = Request(HttpMethod.Post, "mining", """{"action":"start"}""", "text/plain");
            mining.Headers.Add("Origin", "http://evil.example");
            await ProblemAsync(await SendAsync(mining, secret), 403, "evil mining start");

            using var tx = Request(HttpMethod.Post, "tx", """{"actions":[]}""", "text/plain");
            tx.Headers.Add("Origin", "http://evil.example");
            await ProblemAsync(await SendAsync(tx, secret), 403, "evil tx");
        }

        var status = await StatusAsync();
        Assert.Empty(status.GetProperty("activeFaults").EnumerateObject());
        Assert.Equal("idle", status.GetProperty("mining").GetProperty("state").GetString());
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Control_endpoints_want_the_runs_secret_and_a_loopback_host()
    {
        using (var none = Request(HttpMethod.Post, "mining", """{"action":"start"}"""))
        {
            Assert.Contains("X-Testbed-Secret", await ProblemAsync(await SendAsync(none, secret: false), 403, "no secret"), StringComparison.Ordinal);
        }

        using (var wrong = Request(HttpMethod.Post, "faults/withhold", "{}"))
        {
            wrong.Headers.Add(ServiceProcess.ControlSecretHeader, ControlSecretLike());
            Assert.Contains("does not match", await ProblemAsync(await SendAsync(wrong, secret: false), 403, "wrong secret"), StringComparison.Ordinal);
        }

        foreach (var path in new[] { "mining", "tx", "status" })
        {
            using var rebound = Request(path == "status" ? HttpMethod.Get : HttpMethod.Post, path, path == "status" ? null : """{"action":"start"}""");
            rebound.Headers.Host = $"evil.example:{Peer.BaseUrl.Port}";
            Assert.Contains("Host header", await ProblemAsync(await SendAsync(rebound), 403, $"rebinding {path}"), StringComparison.Ordinal);
        }

        Assert.Equal("idle", (await StatusAsync()).GetProperty("mining").GetProperty("state").GetString());
        Assert.Empty((await StatusAsync()).GetProperty("activeFaults").EnumerateObject());
    }

    [Fact]
    public async Task A_28_MB_unsigned_contract_is_refused_before_any_work_and_24_of_them_leave_memory_bounded()
    {
        const int size = 28 * 1024 * 1024;
        var mempool = (await StatusAsync()).GetProperty("mempool").GetInt32();
        var before = BadInputs.PeakResidentBytes(Peer.ProcessId);

        // A client that announces its body (Expect: 100-continue) is told 413 without sending it.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "tx") { Content = new ByteArrayContent(Contract(size)) })
        {
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.ExpectContinue = true;
            var detail = await ProblemAsync(await SendAsync(request), 413, "28 MB contract");
            Assert.Contains("32768 bytes", detail, StringComparison.Ordinal);
        }

        // Clients that just send it (with a length, or chunked) get nowhere either.
        var body = Contract(size);
        for (var i = 0; i < 24; i++)
        {
            await RawPostAsync("/tx", body, chunked: i % 2 == 1);
        }

        await AssertHealthyAsync();
        Assert.Equal(mempool, (await StatusAsync()).GetProperty("mempool").GetInt32());
        var after = BadInputs.PeakResidentBytes(Peer.ProcessId);
        output.WriteLine($"peer VmHWM before {before / 1048576} MiB, after {after / 1048576} MiB");
        if (before is { } b && after is { } a)
        {
            // 24 x 28 MB = 672 MB offered; buffering even one would move the peak by 28 MB.
            Assert.True(a - b < 24L * 1024 * 1024, $"the peer's peak resident set grew by {(a - b) / 1048576} MiB");
        }
    }

    [Fact]
    public async Task An_oversized_contract_inside_the_body_limit_is_refused_naming_the_token_limit()
    {
        var actions = "{\"actions\":[{\"action\":\"register_student\",\"student\":{\"id\":\"s\",\"name\":\"" + new string('x', 20_000) + "\"}}]}";
        using var request = Request(HttpMethod.Post, "tx", actions);
        Assert.Contains("16384", await ProblemAsync(await SendAsync(request), 400, "oversized contract"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tx")]
    [InlineData("mining")]
    [InlineData("faults/corrupt-pieces")]
    public async Task Invalid_utf8_inside_a_json_string_is_400_naming_utf8(string path)
    {
        using var content = new ByteArrayContent([.. "{\"token\":\""u8, 0xC3, 0x28, .. "\",\"action\":\"x\"}"u8]);
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        Assert.Contains("UTF-8", await ProblemAsync(await SendAsync(request), 400, path), StringComparison.Ordinal);
        await AssertHealthyAsync();
    }

    [Theory]
    [InlineData("tx", """{"token":"a.b.c"}""")]
    [InlineData("mining", """{"action":"stop"}""")]
    [InlineData("faults/no-such-fault", """{"share":0.5}""")]
    public async Task Generated_bad_bodies_get_4xx_problems_and_never_a_500(string path, string valid)
    {
        var count = 0;
        foreach (var (name, body) in BadInputs.JsonBodies(valid, 60, BadInputs.Seed))
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content });
            var status = (int)response.StatusCode;
            var context = $"POST /{path} {name} (seed {BadInputs.Seed})";
            Assert.True(status < 500, $"{context}: {status} {await response.Content.ReadAsStringAsync()}");
            if (status >= 400)
            {
                await ProblemAsync(response, status, context);
            }

            count++;
        }

        output.WriteLine($"{count} bodies, seed {BadInputs.Seed}");
        await AssertHealthyAsync();
        Assert.Equal("idle", (await StatusAsync()).GetProperty("mining").GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("chain?from=abc", 400, "'from'")]
    [InlineData("chain?from=99999999999999999999999", 400, "'from'")]
    [InlineData("chain?count=-1", 400, "'count'")]
    [InlineData("chain?count=1001", 400, "'count'")]
    [InlineData("timings?since=yesterday", 400, "'since'")]
    [InlineData("blocks/xyz", 400, "not a block hash")]
    [InlineData("blocks/0000000000000000000000000000000000000000000000000000000000000000", 404, "not known")]
    [InlineData("no/such/path", 404, "")]
    public async Task Bad_queries_and_paths_get_a_named_problem(string path, int status, string named)
    {
        var detail = await ProblemAsync(await Peer.Http.GetAsync(path), status, path);
        Assert.Contains(named, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_methods_and_unknown_faults_get_problems_not_empty_bodies()
    {
        await ProblemAsync(await Peer.Http.DeleteAsync("status"), 405, "DELETE /status");
        await ProblemAsync(await Peer.Http.GetAsync("tx"), 405, "GET /tx");
        Assert.Contains("not active", await ProblemAsync(await Peer.Http.DeleteAsync("faults/withhold"), 404, "DELETE inactive fault"), StringComparison.Ordinal);
        using var wrongType = Request(HttpMethod.Post, "mining", """{"action":"mine","blocks":1}""", "application/x-www-form-urlencoded");
        Assert.Contains("application/json", await ProblemAsync(await SendAsync(wrongType), 415, "form body"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_data_directory_is_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(fixture.DataDir));
    }

    private static byte[] Contract(int size)
    {
        var prefix = """{"actions":[{"action":"register_student","student":{"id":"s","name":" """u8.ToArray();
        var suffix = "\"}}]}"u8.ToArray();
        var body = new byte[size];
        body.AsSpan().Fill((byte)'x');
        prefix.CopyTo(body, 0);
        suffix.CopyTo(body, size - suffix.Length);
        return body;
    }

    private static string ControlSecretLike() => new('0', 64);

    /// <summary>Posts like a client that never waits to be told: writes the whole body unless the peer hangs up first.</summary>
    private async Task RawPostAsync(string path, byte[] body, bool chunked)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, Peer.BaseUrl.Port);
        var head = $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{Peer.BaseUrl.Port}\r\nContent-Type: application/json\r\n{ServiceProcess.ControlSecretHeader}: {ServiceProcess.ControlSecret}\r\n" +
                   (chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {body.Length}\r\n") + "\r\n";
        var response = new StringBuilder();
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(head));
            const int piece = 256 * 1024;
            for (var offset = 0; offset < body.Length; offset += piece)
            {
                var slice = body.AsMemory(offset, Math.Min(piece, body.Length - offset));
                if (chunked)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"{slice.Length:x}\r\n"));
                    await socket.SendAsync(slice);
                    await socket.SendAsync("\r\n"u8.ToArray());
                }
                else
                {
                    await socket.SendAsync(slice);
                }
            }

            if (chunked)
            {
                await socket.SendAsync("0\r\n\r\n"u8.ToArray());
            }
        }
        catch (SocketException)
        {
            // The peer answered 413 and closed the connection while we were still sending: the point of the limit.
        }

        try
        {
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
        }

        var text = response.ToString();
        if (text.Length > 0)
        {
            Assert.StartsWith("HTTP/1.1 413", text, StringComparison.Ordinal);
            BadInputs.AssertNoStackTrace(text, $"raw POST {path}");
        }
    }
}

/// <summary>Peers started with unusable settings or without fault hooks: refusals name the problem.</summary>
[Collection(nameof(PeerProcesses))]
public sealed class PeerStartupBadInputTests
{
    [Fact]
    public async Task A_data_directory_others_may_write_to_is_refused_naming_it()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var root = Path.Combine(Path.GetTempPath(), "testbed-peer-badinput", Guid.NewGuid().ToString("n")[..12]);
        var dataDir = Path.Combine(root, "shared");
        Directory.CreateDirectory(dataDir);
        File.SetUnixFileMode(dataDir, (UnixFileMode)0x1FF);
        try
        {
            await using var peer = ServiceProcess.Start("peer-open", ServiceProcess.ProjectDll("Testbed.Peer"), new Dictionary<string, string>
            {
                [PeerSettings.PeerName.EnvironmentVariable] = "peer-open",
                [PeerSettings.DataDir.EnvironmentVariable] = dataDir,
            });
            Assert.True(await peer.WaitForExitAsync(PeerNetwork.Patience), "the peer kept running on a world-writable data directory");
            Assert.Equal(2, peer.ExitCode);
            Assert.Contains("error: Testbed:DataDir", peer.Tail, StringComparison.Ordinal);
            Assert.Contains("writable by group or others (mode 777)", peer.Tail, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dataDir, "wallet.key.pem")), "a key was written into the open directory");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Fault_hooks_that_are_off_answer_a_named_404()
    {
        var root = Path.Combine(Path.GetTempPath(), "testbed-peer-badinput", Guid.NewGuid().ToString("n")[..12]);
        try
        {
            await using var peer = ServiceProcess.Start("peer-nofaults", ServiceProcess.ProjectDll("Testbed.Peer"), new Dictionary<string, string>
            {
                [PeerSettings.PeerName.EnvironmentVariable] = "peer-nofaults",
                [PeerSettings.DataDir.EnvironmentVariable] = Path.Combine(root, "peer"),
            });
            await peer.WaitHealthyAsync(PeerNetwork.Patience);
            using var response = await peer.Http.PostAsync("faults/withhold", null);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            using var problem = JsonDocument.Parse(body);
            Assert.Contains("fault hooks are disabled", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
