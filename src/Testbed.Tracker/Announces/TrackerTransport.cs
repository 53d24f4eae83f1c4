namespace Testbed.Tracker.Announces;

/// <summary>Which protocol a request came in on.</summary>
public enum TrackerTransport
{
    /// <summary>HTTP (BEP 3, 23, 48).</summary>
    Http,

    /// <summary>UDP (BEP 15).</summary>
    Udp,
}
