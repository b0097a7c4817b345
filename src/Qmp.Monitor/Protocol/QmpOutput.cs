using System.Buffers;
using System.Text.Json.Nodes;
using System.Collections.Concurrent;

namespace Qmp.Monitor.Protocol;

/// <summary>
/// Writes a connection's messages in order. A reply is written inline by the command that
/// produced it (after any events queued before it, so events caused by a command precede its
/// reply) and completes once its bytes reached the socket, so a client that never reads stalls
/// only itself. Events never wait: they are queued and written by whoever holds the connection
/// next, and dropped when the client is this far behind, because the machine must never block on
/// a monitor.
/// </summary>
internal sealed class QmpOutput(Stream stream)
{
    /// <summary>Unwritten events beyond which further events are dropped.</summary>
    public const long EventBacklogLimit = 4L << 20;

    private const int HoldLimit = 64 * 1024;

    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _held = new(4096);
    private readonly ConcurrentQueue<byte[]> _events = new();
    private long _pendingEventBytes;
    private int _flushScheduled;
    private volatile Exception? _failure;

    /// <summary>How many events were dropped because the client did not read.</summary>
    public long DroppedEvents => Interlocked.Read(ref _droppedEvents);

    private long _droppedEvents;

    /// <summary>
    /// Writes a reply (or the greeting) after the events queued before it. With
    /// <paramref name="more"/> (further requests are already waiting) the bytes may be held back
    /// and sent with the next replies in one write; <see cref="FlushAsync"/> sends them.
    /// </summary>
    public async Task WriteAsync(JsonObject message, bool pretty, bool more = false)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            DrainEvents();
            // Serialised straight into the outgoing buffer: no copy per reply.
            QmpWire.WriteTo(_held, message, pretty);
            if (!more || _held.WrittenCount >= HoldLimit)
                await SendHeldAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            _failure ??= e;
            throw new IOException("The QMP connection is closed.", e);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Queues an event unless the client is too far behind. Never blocks.</summary>
    public bool TryWriteEvent(byte[] data)
    {
        if (_failure is not null)
            return false;
        if (Interlocked.Read(ref _pendingEventBytes) > EventBacklogLimit)
        {
            Interlocked.Increment(ref _droppedEvents);
            return false;
        }
        Interlocked.Add(ref _pendingEventBytes, data.Length);
        _events.Enqueue(data);
        if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
            _ = Task.Run(FlushEventsAsync);
        return true;
    }

    /// <summary>Sends held replies and queued events.</summary>
    public async Task FlushAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_failure is null)
            {
                DrainEvents();
                await SendHeldAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            _failure ??= e;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task FlushEventsAsync()
    {
        Volatile.Write(ref _flushScheduled, 0);
        await FlushAsync().ConfigureAwait(false);
        // An event queued while the lock was held by a writer that had already drained.
        if (!_events.IsEmpty && _failure is null && Interlocked.Exchange(ref _flushScheduled, 1) == 0)
            _ = Task.Run(FlushEventsAsync);
    }

    private void DrainEvents()
    {
        while (_events.TryDequeue(out var data))
        {
            Interlocked.Add(ref _pendingEventBytes, -data.Length);
            _held.Write(data);
        }
    }

    private async Task SendHeldAsync()
    {
        if (_held.WrittenCount == 0)
            return;
        try
        {
            await stream.WriteAsync(_held.WrittenMemory).ConfigureAwait(false);
        }
        finally
        {
            _held.ResetWrittenCount();
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
            throw new IOException("The QMP connection is closed.", failure);
    }
}
