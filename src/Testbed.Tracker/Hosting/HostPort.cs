using System.Globalization;
using System.Net;

namespace Testbed.Tracker.Hosting;

/// <summary>Parses HOST:PORT (`127.0.0.1:6969`, `[::1]:6969`, `localhost:6969`, `*:6969`) into an endpoint.</summary>
public static class HostPort
{
    /// <summary>Parses or throws a <see cref="FormatException"/> naming what was wrong.</summary>
    public static IPEndPoint Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            throw new FormatException($"'{value}' is not HOST:PORT");
        }

        var host = value[..colon].Trim('[', ']');
        if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > ushort.MaxValue)
        {
            throw new FormatException($"'{value}': port must be a number from 0 to 65535");
        }

        IPAddress address;
        if (host is "*" or "+")
        {
            address = IPAddress.Any;
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address!))
        {
            throw new FormatException($"'{value}': host must be an IP address, localhost or *");
        }

        return new IPEndPoint(address, port);
    }

    /// <summary>The endpoint as an http:// URL for Kestrel (IPv6 in brackets).</summary>
    public static string ToHttpUrl(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return $"http://{endpoint}";
    }
}
