namespace Testbed.Torrent.Messages;

/// <summary>A peer broke the wire protocol (bad length, bad field, broken bound); the connection is dropped.</summary>
public sealed class PeerProtocolException : Exception
{
    /// <summary>Creates the exception with a message naming what was wrong.</summary>
    public PeerProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with an empty message.</summary>
    public PeerProtocolException()
    {
    }

    /// <summary>Creates the exception wrapping a cause.</summary>
    public PeerProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
