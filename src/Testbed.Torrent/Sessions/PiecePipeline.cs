using System.Threading.Channels;
using Testbed.Torrent.PiecePicking;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// Finished pieces on their way to be verified and written, off the peers' read loops: a read loop hands a piece over and
/// goes back to its socket while one consumer hashes and stores pieces in arrival order. Bounded by the bytes held (a
/// piece is always taken when nothing is held, so a piece larger than the bound still passes): a read loop that finds it
/// full waits, stops reading its socket, and TCP slows the sender. The pipeline owns the buffers of the pieces it holds:
/// every piece handed over is processed or, once stopped, released to the pool.
/// </summary>
internal sealed class PiecePipeline(long capacityBytes)
{
    private readonly Channel<Entry> _entries = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private long _bytes;
    private bool _stopped;
    private TaskCompletionSource? _space;

    /// <summary>
    /// Hands <paramref name="pieces"/> over in order, waiting for room as needed, and clears the list; when the pipeline
    /// stops or <paramref name="cancellationToken"/> fires first, the pieces not handed over are released and this throws.
    /// </summary>
    public async Task AddAsync(List<PieceDownload> pieces, CancellationToken cancellationToken)
    {
        var added = 0;
        try
        {
            for (; added < pieces.Count; added++)
            {
                await AddAsync(pieces[added], cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            for (var i = added; i < pieces.Count; i++)
            {
                pieces[i].ReleaseBuffer();
            }

            pieces.Clear();
        }
    }

    private async Task AddAsync(PieceDownload piece, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task space;
            lock (_gate)
            {
                if (_stopped)
                {
                    throw new OperationCanceledException("the piece pipeline has stopped");
                }

                if (_bytes == 0 || _bytes + piece.Length <= capacityBytes)
                {
                    _bytes += piece.Length;
                    _entries.Writer.TryWrite(new Entry(piece, null));
                    return;
                }

                _space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _space.Task;
            }

            await space.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes once every piece handed over before this call has been processed (or the pipeline has stopped).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _entries.Writer.TryWrite(new Entry(null, drained));
        }

        await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The consumer: runs <paramref name="process"/> on each piece in order (it owns the piece's buffer from then on) until
    /// <paramref name="cancellationToken"/> fires; then refuses new pieces and releases those still held.
    /// </summary>
    public async Task RunAsync(Action<PieceDownload> process, CancellationToken cancellationToken)
    {
        var reader = _entries.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (!cancellationToken.IsCancellationRequested && reader.TryRead(out var entry))
                {
                    if (entry.Piece is { } piece)
                    {
                        try
                        {
                            process(piece);
                        }
                        finally
                        {
                            Taken(piece.Length);
                        }
                    }

                    entry.Drained?.TrySetResult();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: what is still held is released below.
        }
        finally
        {
            Stop();
        }
    }

    private void Taken(int length)
    {
        lock (_gate)
        {
            _bytes -= length;
            _space?.TrySetResult();
            _space = null;
        }
    }

    private void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            _entries.Writer.TryComplete();
            _space?.TrySetResult();
            _space = null;
        }

        while (_entries.Reader.TryRead(out var entry))
        {
            entry.Piece?.ReleaseBuffer();
            entry.Drained?.TrySetResult();
        }
    }

    /// <summary>A finished piece, or a marker completed once everything before it was processed.</summary>
    private readonly record struct Entry(PieceDownload? Piece, TaskCompletionSource? Drained);
}
