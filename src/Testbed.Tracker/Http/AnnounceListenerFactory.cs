using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Testbed.Tracker.Http;

/// <summary>
/// Kestrel's transport for the tracker: IP endpoints get an <see cref="AnnounceSocketListener"/> (the announce fast
/// path in front of Kestrel's own socket connections); anything else (Unix sockets, handles) the standard socket transport.
/// </summary>
internal sealed class AnnounceListenerFactory : IConnectionListenerFactory, IDisposable
{
    private readonly HttpAnnounceHandler _handler;
    private readonly SocketTransportOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly SocketTransportFactory _standard;
    private readonly SocketConnectionContextFactory _contexts;

    /// <summary>Creates the factory with Kestrel's socket transport settings.</summary>
    public AnnounceListenerFactory(HttpAnnounceHandler handler, IOptions<SocketTransportOptions> options, ILoggerFactory loggers)
    {
        _handler = handler;
        _options = options.Value;
        _loggers = loggers;
        _standard = new SocketTransportFactory(options, loggers);
        _contexts = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions { UnsafePreferInlineScheduling = _options.UnsafePreferInlineScheduling },
            loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
    }

    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
        {
            return _standard.BindAsync(endpoint, cancellationToken);
        }

        var listener = AnnounceSocketListener.Bind(ip, _options.Backlog, _handler, _contexts, _loggers.CreateLogger<AnnounceSocketListener>());
        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    /// <inheritdoc />
    public void Dispose() => _contexts.Dispose();
}
