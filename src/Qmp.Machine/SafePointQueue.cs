namespace Qmp.Machine;

/// <summary>
/// Work posted to a machine from other threads, applied by the machine thread between translation
/// blocks. The machine thread is the only consumer.
/// </summary>
internal sealed class SafePointQueue
{
    private readonly Queue<Action> _items = new();
    private readonly object _lock = new();
    private bool _closed;

    /// <summary>Adds work; false when the queue is closed and the work will never run.</summary>
    public bool TryPost(Action work)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            _items.Enqueue(work);
            Monitor.Pulse(_lock);
            return true;
        }
    }

    /// <summary>Runs everything queued now. Returns false once the queue is closed and empty.</summary>
    public bool Drain()
    {
        while (true)
        {
            Action work;
            lock (_lock)
            {
                if (_items.Count == 0)
                    return !_closed;
                work = _items.Dequeue();
            }
            work();
        }
    }

    /// <summary>Blocks until there is work, the queue is closed, or <paramref name="timeout"/> passes.</summary>
    public void WaitForWork(TimeSpan timeout)
    {
        lock (_lock)
        {
            if (_items.Count == 0 && !_closed)
                Monitor.Wait(_lock, timeout);
        }
    }

    /// <summary>Refuses further work and wakes the consumer; queued work still runs.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            Monitor.PulseAll(_lock);
        }
    }
}
