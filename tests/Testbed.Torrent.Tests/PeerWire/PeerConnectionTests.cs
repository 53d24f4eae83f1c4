using System.Net.Sockets;
using Testbed.Torrent.PeerWire;

namespace Testbed.Torrent.Tests.PeerWire;

/// <summary>A connection's life-cycle as other threads see it.</summary>
public sealed class PeerConnectionTests
{
    [Fact]
    public async Task Closed_can_still_be_read_after_the_connection_is_disposed()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var dialler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await dialler.ConnectAsync(listener.LocalEndPoint!);
        var accepted = await listener.AcceptAsync();
        var connection = new PeerConnection(accepted, Handshake.Create(new byte[20], new byte[20]));
        var closed = connection.Closed;
        Assert.False(closed.IsCancellationRequested);

        await connection.DisposeAsync();

        // Swarm code checks Closed on peers it still holds after their connection ended (a duplicate connection dropped).
        Assert.True(connection.Closed.IsCancellationRequested);
        Assert.True(closed.IsCancellationRequested);
        connection.Send(new Testbed.Torrent.Messages.KeepAliveMessage());
    }
}
