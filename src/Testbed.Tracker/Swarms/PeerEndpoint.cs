namespace Testbed.Tracker.Swarms;

/// <summary>A peer as handed out to another peer: its id, address and port.</summary>
public readonly record struct PeerEndpoint(PeerId Id, PeerAddress Address, ushort Port);
