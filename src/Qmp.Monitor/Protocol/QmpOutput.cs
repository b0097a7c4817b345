using System.Threading.Channels;

namespace Qmp.Monitor.Protocol;

/// <summary>
/// The single writer of a connection. Replies wait for their bytes to reach the socket (so a
/// client that never reads stalls only itself); events never wait and are dropped when the
/// client is this far behind, because the machine must never block on a monitor.
/// </summary>
internal sealed class QmpOutput
{
    /// <summary>Unread output beyond which events are dropped.</summary>
    public const long EventBacklogLimit = 4L << 20;

    private readonly Stream _stream;
    private readonly Channel<(byte[] Data, TaskCompletionSource? Written)> _queue =
        Channel.CreateUnbounded<(byte[], TaskCompletionSource?)>(new UnboundedChannelOptions { SingleReader = true });
    private long _pendingBytes;
    private Exception? _failure;

    public QmpOutput(Stream stream)
    {
        _stream = stream;
        Completion = Task.Run(PumpAsync);
    }

    /// <summary>Completes when everything queued before <see cref="Complete"/> was written, or writing failed.</summary>
    public Task Completion { get; }

    /// <summary>How many events were dropped because the client did not read.</summary>
    public long DroppedEvents { get; private set; }

    /// <summary>Queues a reply (or greeting) and completes once it has been written.</summary>
    public Task WriteAsync(byte[] data)
    {
        if (_failure is not null)
            return Task.FromException(_failure);
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Add(ref _pendingBytes, data.Length);
        if (!_queue.Writer.TryWrite((data, written)))
            written.TrySetException(new IOException("The connection is closed."));
        return written.Task;
    }

    /// <summary>Queues an event unless the client is too far behind. Never blocks.</summary>
    public bool TryWriteEvent(byte[] data)
    {
        if (_failure is not null)
            return false;
        if (Interlocked.Read(ref _pendingBytes) > EventBacklogLimit)
        {
            DroppedEvents++;
            return false;
        }
        Interlocked.Add(ref _pendingBytes, data.Length);
        return _queue.Writer.TryWrite((data, null));
    }

    /// <summary>No more output; <see cref="Completion"/> finishes after the queue drains.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private async Task PumpAsync()
    {
        var written = new List<TaskCompletionSource>();
        try
        {
            var reader = _queue.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    // Listed before writing, so that a failed write fails its waiter too.
                    if (item.Written is not null)
                        written.Add(item.Written);
                    await _stream.WriteAsync(item.Data).ConfigureAwait(false);
                    Interlocked.Add(ref _pendingBytes, -item.Data.Length);
                }
                await _stream.FlushAsync().ConfigureAwait(false);
                foreach (var done in written)
                    done.TrySetResult();
                written.Clear();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            _failure = e;
            _queue.Writer.TryComplete();
            foreach (var done in written)
                done.TrySetException(e);
            while (_queue.Reader.TryRead(out var item))
                item.Written?.TrySetException(e);
        }
    }
}
