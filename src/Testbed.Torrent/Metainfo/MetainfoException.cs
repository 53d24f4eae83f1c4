namespace Testbed.Torrent.Metainfo;

/// <summary>A .torrent file, info dictionary or magnet link that is malformed or unsafe.</summary>
public sealed class MetainfoException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public MetainfoException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public MetainfoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
