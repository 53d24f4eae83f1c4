using System.Collections.Concurrent;
using System.Net.Sockets;

namespace ServiceDefaults.Tests;

/// <summary>A bare OTLP/HTTP endpoint on loopback that records the raw protobuf bodies it is sent.</summary>
internal sealed class TestOtlpListener : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public TestOtlpListener()
    {
        Port = FreeTcpPort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Request path and body of every export received.</summary>
    public ConcurrentQueue<(string Path, byte[] Body)> Exports { get; } = new();

    public static int FreeTcpPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task AcceptLoop()
    {
        while (_listener.IsListening)
        {
            try
            {
                var context = await _listener.GetContextAsync();
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                Exports.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                // Aborted by DisposeAsync, also in the middle of reading an export.
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Abort, not Stop: Stop leaves a request being read (an exporter's flush arriving as the test ends) open, and the
        // loop waiting on it; a test host was seen hanging for 12 minutes in this project's tests with no CPU use.
        _listener.Abort();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
