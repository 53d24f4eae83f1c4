using Testbed.Contracts.Peers;
using Testbed.Torrent.Metainfo;

namespace Testbed.Peer.Faults;

/// <summary>The fault hooks the chaos controller can switch on and off; every one is reversible and reported in /status.</summary>
public sealed class FaultState
{
    /// <summary>Names accepted by `POST /faults/{name}`.</summary>
    public static readonly IReadOnlyList<string> Names = ["corrupt-pieces", "wrong-key", "low-work", "withhold", "clock-skew", "drop-announcements"];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, FaultSettings> _active = new(StringComparer.Ordinal);

    /// <summary>Raised after a fault was cleared (withhold releases its blocks, corrupt-pieces restores the files).</summary>
    public event Action<string>? Cleared;

    /// <summary>The clock the chain uses; skewed by the clock-skew fault.</summary>
    public SkewedClock Clock { get; } = new();

    /// <summary>Share of served pieces to corrupt (0 when the fault is off).</summary>
    public double CorruptShare => Get("corrupt-pieces")?.Share ?? 0;

    /// <summary>Sign mined blocks with a key that is not the miner's.</summary>
    public bool WrongKey => IsActive("wrong-key");

    /// <summary>Mine blocks whose hash does not meet the difficulty.</summary>
    public bool LowWork => IsActive("low-work");

    /// <summary>Keep mined blocks to ourselves until the fault is cleared.</summary>
    public bool Withhold => IsActive("withhold");

    /// <summary>Share of incoming block announcements to drop (0 when the fault is off).</summary>
    public double DropShare => Get("drop-announcements")?.Share ?? 0;

    /// <summary>A snapshot of the active faults for /status.</summary>
    public IReadOnlyDictionary<string, FaultSettings> Active
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, FaultSettings>(_active, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Switches a fault on (or changes its settings); throws <see cref="ArgumentException"/> for an unknown name or bad settings.</summary>
    public void Set(string name, FaultSettings settings)
    {
        if (!Names.Contains(name))
        {
            throw new ArgumentException($"unknown fault '{name}'; known faults: {string.Join(", ", Names)}");
        }

        if (settings.Share is < 0 or > 1 || double.IsNaN(settings.Share))
        {
            throw new ArgumentException($"share must be between 0 and 1, got {settings.Share}");
        }

        if (Math.Abs(settings.SkewMs) > 10L * 365 * 24 * 3600 * 1000)
        {
            throw new ArgumentException($"skewMs {settings.SkewMs} is out of range");
        }

        lock (_gate)
        {
            _active[name] = settings;
        }

        if (name == "clock-skew")
        {
            Clock.OffsetMs = settings.SkewMs;
        }
    }

    /// <summary>Switches a fault off; false when it was not on.</summary>
    public bool Clear(string name)
    {
        bool removed;
        lock (_gate)
        {
            removed = _active.Remove(name);
        }

        if (name == "clock-skew")
        {
            Clock.OffsetMs = 0;
        }

        if (removed)
        {
            Cleared?.Invoke(name);
        }

        return removed;
    }

    /// <summary>Whether a fault is on.</summary>
    public bool IsActive(string name)
    {
        lock (_gate)
        {
            return _active.ContainsKey(name);
        }
    }

    /// <summary>Whether this announcement should be dropped.</summary>
    public bool ShouldDropAnnouncement() => DropShare > 0 && Random.Shared.NextDouble() < DropShare;

    /// <summary>Overwrites a share of the pieces of a seeded file with garbage (the corrupt-pieces fault); the session serves what is on disk.</summary>
    public void CorruptServedPieces(string path, TorrentInfo info)
    {
        var share = CorruptShare;
        if (share <= 0)
        {
            return;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        for (var piece = 0; piece < info.PieceCount; piece++)
        {
            if (share >= 1 || Random.Shared.NextDouble() < share)
            {
                var garbage = new byte[Math.Min(64, info.GetPieceSize(piece))];
                Random.Shared.NextBytes(garbage);
                stream.Position = (long)piece * info.PieceLength;
                stream.Write(garbage);
            }
        }
    }

    private FaultSettings? Get(string name)
    {
        lock (_gate)
        {
            return _active.GetValueOrDefault(name);
        }
    }
}

/// <summary>The system clock plus an adjustable offset (the clock-skew fault).</summary>
public sealed class SkewedClock : TimeProvider
{
    private long _offsetMs;

    /// <summary>Milliseconds added to the system clock.</summary>
    public long OffsetMs
    {
        get => Interlocked.Read(ref _offsetMs);
        set => Interlocked.Exchange(ref _offsetMs, value);
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddMilliseconds(OffsetMs);
}
