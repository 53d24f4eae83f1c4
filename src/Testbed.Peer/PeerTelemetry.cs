using System.Diagnostics;

namespace Testbed.Peer;

/// <summary>The peer's ActivitySource ("Testbed.Peer") and the span attribute names of DESIGN.md.</summary>
public static class PeerTelemetry
{
    public const string SourceName = "Testbed.Peer";

    public static readonly ActivitySource Source = new(SourceName);

    public const string Peer = "testbed.peer";
    public const string BlockHeight = "block.height";
    public const string BlockHash = "block.hash";
    public const string NetPeer = "net.peer";
    public const string Result = "result";
}
