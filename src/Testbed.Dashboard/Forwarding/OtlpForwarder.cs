using System.Net.Http.Headers;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Testbed.Dashboard.Ingest;

namespace Testbed.Dashboard.Forwarding;

/// <summary>Counters of the forwarder: requests sent, failed, dropped because the queue was full, and the last error.</summary>
public sealed record ForwarderStats(string Url, string Protocol, long Sent, long Failed, long Dropped, string? LastError);

/// <summary>
/// Sends a copy of every OTLP request to another OTLP endpoint (<c>--otlp-forward URL</c>) in the
/// background. The queue is bounded: when the target is slow or down, the oldest requests are dropped
/// and counted, so forwarding never slows down or blocks the dashboard's own ingest.
/// </summary>
public sealed class OtlpForwarder : IAsyncDisposable
{
    /// <summary>Requests waiting to be forwarded before the oldest is dropped.</summary>
    public const int QueueCapacity = 1024;

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(bytes => bytes, bytes => bytes);

    private readonly Uri _url;
    private readonly string _protocol;
    private readonly ILogger _logger;
    private readonly Channel<(OtlpSignal Signal, byte[] Payload)> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly GrpcChannel? _grpc;
    private readonly HttpClient? _http;
    private readonly Task _loop;
    private long _sent;
    private long _failed;
    private long _dropped;
    private string? _lastError;

    /// <summary>Starts forwarding to <paramref name="url"/> with <paramref name="protocol"/> (grpc or http/protobuf).</summary>
    public OtlpForwarder(Uri url, string protocol, ILogger logger)
    {
        _url = url;
        _protocol = protocol;
        _logger = logger;
        _queue = Channel.CreateBounded<(OtlpSignal, byte[])>(
            new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        if (protocol == "grpc")
        {
            _grpc = GrpcChannel.ForAddress(url, new GrpcChannelOptions { MaxSendMessageSize = null });
        }
        else
        {
            _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        }

        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Current counters.</summary>
    public ForwarderStats Stats => new(_url.ToString(), _protocol, Interlocked.Read(ref _sent), Interlocked.Read(ref _failed),
        Interlocked.Read(ref _dropped), Volatile.Read(ref _lastError));

    /// <summary>Queues <paramref name="message"/>; <paramref name="payload"/> are its protobuf bytes when the caller has them.</summary>
    public void Enqueue(OtlpSignal signal, IMessage message, ReadOnlyMemory<byte>? payload)
    {
        var bytes = payload is { } raw ? raw.ToArray() : message.ToByteArray();
        _queue.Writer.TryWrite((signal, bytes));
    }

    /// <summary>Stops forwarding; requests still queued are sent for at most two seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync();
        }

        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // Stopped while sending.
        }

        _grpc?.Dispose();
        _http?.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var (signal, payload) in _queue.Reader.ReadAllAsync(cancellationToken))
        {
            try
            {
                await SendAsync(signal, payload, cancellationToken);
                Interlocked.Increment(ref _sent);
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or TaskCanceledException or InvalidOperationException
                                          && !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failed);
                Volatile.Write(ref _lastError, e.Message);
                _logger.LogWarning("Forwarding {Signal} to {Url} failed: {Error}", signal, _url, e.Message);
            }
        }
    }

    private async Task SendAsync(OtlpSignal signal, byte[] payload, CancellationToken cancellationToken)
    {
        if (_grpc is not null)
        {
            var method = new Method<byte[], byte[]>(MethodType.Unary, signal.GrpcService(), "Export", Raw, Raw);
            using var call = _grpc.CreateCallInvoker().AsyncUnaryCall(method, null,
                new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken), payload);
            await call.ResponseAsync;
            return;
        }

        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        var target = new Uri(_url, _url.AbsolutePath.TrimEnd('/') + signal.HttpPath());
        using var response = await _http!.PostAsync(target, content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{target} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }
}
