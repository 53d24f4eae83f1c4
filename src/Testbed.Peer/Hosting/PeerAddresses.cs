using System.Globalization;
using System.Net;
using Testbed.Contracts.Settings;

namespace Testbed.Peer.Hosting;

/// <summary>Where a peer listens and dials from, and what it tells the tracker to hand out to others.</summary>
/// <param name="Bind">The address of the listeners and of every outgoing peer connection.</param>
/// <param name="Advertise">The address sent as the announce's <c>ip</c>, or null to let the tracker use the one it sees.</param>
public sealed record PeerAddresses(IPAddress Bind, IPAddress? Advertise)
{
    /// <summary>The placeholder for the replica number N of a peer named <c>peer-N</c>.</summary>
    public const string ReplicaPlaceholder = "{replica}";

    /// <summary>
    /// Resolves <see cref="PeerOptions.BindAddress"/> and <see cref="PeerOptions.AdvertiseAddress"/> for the peer
    /// <paramref name="peerName"/>; throws an <see cref="ArgumentException"/> naming the setting that is unusable.
    /// </summary>
    public static PeerAddresses Resolve(PeerOptions options, string peerName) => new(
        Parse(PeerSettings.BindAddress.Key, options.BindAddress, peerName) ?? IPAddress.Loopback,
        Parse(PeerSettings.AdvertiseAddress.Key, options.AdvertiseAddress, peerName));

    private static IPAddress? Parse(string setting, string value, string peerName)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Trim();
        if (text.Contains(ReplicaPlaceholder, StringComparison.Ordinal))
        {
            var dash = peerName.LastIndexOf('-');
            if (dash < 0 || !int.TryParse(peerName.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var replica))
            {
                throw new ArgumentException($"{setting} '{value}' uses {ReplicaPlaceholder}, but the peer's name '{peerName}' does not end in -N");
            }

            text = text.Replace(ReplicaPlaceholder, replica.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        // Everything the testbed runs stays on this machine: only 127.0.0.0/8 (or ::1) is accepted.
        if (!IPAddress.TryParse(text, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"{setting} must be a loopback address such as 127.0.0.2 (with {ReplicaPlaceholder} for the replica number), not '{text}'");
        }

        return address;
    }
}
