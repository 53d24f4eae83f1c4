using System.Net;
using System.Net.Sockets;

namespace Testbed.AppHost.Orchestration;

/// <summary>Picks free loopback ports, never handing out the same port twice in one AppHost.</summary>
/// <remarks>
/// A port handed to a process is free only until someone binds it. Ports are therefore picked below the kernel's
/// ephemeral range (32768-60999 on Linux), where no port-0 bind (a peer's torrent listener, an outgoing connection)
/// can take one before its process binds it.
/// </remarks>
public sealed class PortAllocator
{
    private const int FirstPort = 20000;
    private const int LastPort = 32767;

    private readonly HashSet<int> _handedOut = [];
    private readonly Lock _gate = new();

    /// <summary>A port free right now for <paramref name="udp"/> or TCP on 127.0.0.1.</summary>
    public int Allocate(bool udp)
    {
        lock (_gate)
        {
            // The same port may come back for a resource that is not listening yet; ask again.
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var port = FreeLoopbackPort(udp);
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

    /// <summary>A loopback port below the ephemeral range that is free right now, for a process that will bind it.</summary>
    public static int FreeLoopbackPort(bool udp)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(FirstPort, LastPort + 1);
            using var socket = udp
                ? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
                : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        throw new InvalidOperationException($"No free loopback port between {FirstPort} and {LastPort} after 200 attempts.");
    }
}
