namespace Testbed.Chaos.Proxy;

/// <summary>
/// The faults on every directed link: toxics and partitions. Connections read it on every chunk and wait on
/// <see cref="WaitForChangeAsync"/>, so a change applies to live connections at once.
/// </summary>
public sealed class LinkTable
{
    /// <summary>Most toxics one direction of a link may carry.</summary>
    public const int MaxToxicsPerLink = 16;

    private readonly Lock _gate = new();
    private readonly Dictionary<LinkDirection, List<LinkToxic>> _toxics = [];
    private readonly HashSet<LinkDirection> _blocked = [];
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>The state of one direction.</summary>
    public LinkState Get(string from, string to)
    {
        var link = new LinkDirection(from, to);
        lock (_gate)
        {
            var blocked = _blocked.Contains(link);
            var toxics = _toxics.TryGetValue(link, out var list) ? list.ToArray() : [];
            return blocked || toxics.Length > 0 ? new LinkState(blocked, toxics) : LinkState.Clear;
        }
    }

    /// <summary>Completes at the next change of any link.</summary>
    public Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        Task signal;
        lock (_gate)
        {
            signal = _changed.Task;
        }

        return signal.WaitAsync(cancellationToken);
    }

    /// <summary>Adds a toxic to one direction; a toxic of the same kind is replaced.</summary>
    public void AddToxic(string from, string to, LinkToxic toxic)
    {
        ArgumentNullException.ThrowIfNull(toxic);
        Change(() =>
        {
            var link = new LinkDirection(from, to);
            if (!_toxics.TryGetValue(link, out var list))
            {
                _toxics[link] = list = [];
            }

            list.RemoveAll(existing => existing.Kind == toxic.Kind);
            if (list.Count >= MaxToxicsPerLink)
            {
                throw new InvalidOperationException($"link {link} already carries {MaxToxicsPerLink} toxics");
            }

            list.Add(toxic);
        });
    }

    /// <summary>Removes the toxics of <paramref name="kind"/> (all kinds when null) from one direction.</summary>
    public void RemoveToxics(string from, string to, string? kind = null) => Change(() =>
    {
        if (_toxics.TryGetValue(new LinkDirection(from, to), out var list))
        {
            list.RemoveAll(existing => kind is null || existing.Kind == kind);
        }
    });

    /// <summary>Removes every toxic of every link (partitions stay).</summary>
    public void ClearToxics() => Change(_toxics.Clear);

    /// <summary>Blocks data from every node of <paramref name="from"/> to every node of <paramref name="to"/>; with <paramref name="bothWays"/> the reverse too.</summary>
    public void Partition(IReadOnlyCollection<string> from, IReadOnlyCollection<string> to, bool bothWays) => Change(() =>
    {
        foreach (var a in from)
        {
            foreach (var b in to)
            {
                if (a == b)
                {
                    continue;
                }

                _blocked.Add(new LinkDirection(a, b));
                if (bothWays)
                {
                    _blocked.Add(new LinkDirection(b, a));
                }
            }
        }
    });

    /// <summary>Lifts every partition (toxics stay).</summary>
    public void Heal() => Change(_blocked.Clear);

    /// <summary>The blocked directions, for reports.</summary>
    public IReadOnlyList<LinkDirection> Blocked
    {
        get
        {
            lock (_gate)
            {
                return [.. _blocked.OrderBy(l => l.From, StringComparer.Ordinal).ThenBy(l => l.To, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Every direction with toxics, for reports.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<LinkToxic>> Toxics
    {
        get
        {
            lock (_gate)
            {
                return _toxics.Where(pair => pair.Value.Count > 0)
                    .ToDictionary(pair => pair.Key.ToString(), pair => (IReadOnlyList<LinkToxic>)pair.Value.ToArray(), StringComparer.Ordinal);
            }
        }
    }

    private void Change(Action change)
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            change();
            previous = _changed;
            _changed = NewSignal();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
