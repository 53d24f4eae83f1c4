using System.Net;
using System.Net.Sockets;

namespace Testbed.AppHost.Orchestration;

/// <summary>Picks free loopback ports by binding port 0, never handing out the same port twice in one AppHost.</summary>
internal sealed class PortAllocator
{
    private readonly HashSet<int> _handedOut = [];
    private readonly Lock _gate = new();

    /// <summary>A port free right now for <paramref name="udp"/> or TCP on 127.0.0.1.</summary>
    public int Allocate(bool udp)
    {
        lock (_gate)
        {
            // The kernel may hand back a port we gave a resource that is not listening yet; ask again.
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var port = udp ? FreeUdpPort() : FreeTcpPort();
                if (_handedOut.Add(port))
                {
                    return port;
                }
            }

            throw new InvalidOperationException("No free loopback port found after 50 attempts.");
        }
    }

    /// <summary>Records a fixed port so it is not handed out again.</summary>
    public void Reserve(int port)
    {
        lock (_gate)
        {
            _handedOut.Add(port);
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
