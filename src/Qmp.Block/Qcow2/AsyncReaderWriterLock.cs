namespace Qmp.Block.Qcow2;

/// <summary>
/// A small async reader/writer lock: any number of readers or one writer. Uncontended entry allocates
/// nothing. A waiting writer holds back new readers (so allocating writes are not starved by a stream
/// of reads), and after a writer the readers that queued meanwhile go first (so reads are not starved
/// by a stream of allocations).
/// </summary>
internal sealed class AsyncReaderWriterLock
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waitingReaders = new();
    private readonly LinkedList<Waiter> _waitingWriters = new();
    private int _readers;
    private bool _writer;
    private bool _lastGrantWasWriter;

    /// <summary>Whether a writer holds the lock (for assertions and tests).</summary>
    public bool IsWriteHeld
    {
        get
        {
            lock (_gate)
                return _writer;
        }
    }

    public ValueTask<Releaser> EnterReadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_writer && _waitingWriters.Count == 0)
            {
                _readers++;
                return ValueTask.FromResult(new Releaser(this, false));
            }
            return Enqueue(_waitingReaders, false, cancellationToken);
        }
    }

    public ValueTask<Releaser> EnterWriteAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_writer && _readers == 0)
            {
                _writer = true;
                _lastGrantWasWriter = true;
                return ValueTask.FromResult(new Releaser(this, true));
            }
            return Enqueue(_waitingWriters, true, cancellationToken);
        }
    }

    // Called with _gate held.
    private ValueTask<Releaser> Enqueue(LinkedList<Waiter> queue, bool write, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(new Releaser(this, write));
        var node = queue.AddLast(waiter);
        if (cancellationToken.CanBeCanceled)
            waiter.Registration = cancellationToken.Register(() => Cancel(queue, node, write, cancellationToken));
        return new ValueTask<Releaser>(waiter.Completion.Task);
    }

    private void Cancel(LinkedList<Waiter> queue, LinkedListNode<Waiter> node, bool write, CancellationToken cancellationToken)
    {
        List<Waiter>? granted = null;
        lock (_gate)
        {
            // Already granted: the caller owns the lock and will release it.
            if (node.List is null)
                return;
            queue.Remove(node);
            // A cancelled writer may have been holding readers back.
            if (write)
                granted = Grant();
        }
        node.Value.Completion.TrySetCanceled(cancellationToken);
        Complete(granted);
    }

    private void Release(bool write)
    {
        List<Waiter>? granted;
        lock (_gate)
        {
            if (write)
                _writer = false;
            else
                _readers--;
            granted = Grant();
        }
        Complete(granted);
    }

    // Called with _gate held: picks who gets the lock next.
    private List<Waiter>? Grant()
    {
        if (_writer)
            return null;
        var writerWaiting = _waitingWriters.Count > 0;
        if (_waitingReaders.Count > 0 && (!writerWaiting || _lastGrantWasWriter))
        {
            var readers = new List<Waiter>(_waitingReaders);
            _readers += readers.Count;
            _waitingReaders.Clear();
            _lastGrantWasWriter = false;
            return readers;
        }
        if (writerWaiting && _readers == 0)
        {
            var writer = _waitingWriters.First!.Value;
            _waitingWriters.RemoveFirst();
            _writer = true;
            _lastGrantWasWriter = true;
            return [writer];
        }
        return null;
    }

    // Outside _gate: a registration's Dispose waits for a running callback, which may want _gate.
    private static void Complete(List<Waiter>? granted)
    {
        if (granted is null)
            return;
        foreach (var waiter in granted)
        {
            waiter.Registration.Dispose();
            waiter.Completion.TrySetResult(waiter.Releaser);
        }
    }

    /// <summary>Leaves the lock when disposed.</summary>
    public readonly struct Releaser : IDisposable
    {
        private readonly AsyncReaderWriterLock? _owner;
        private readonly bool _write;

        internal Releaser(AsyncReaderWriterLock owner, bool write)
        {
            _owner = owner;
            _write = write;
        }

        public void Dispose() => _owner?.Release(_write);
    }

    private sealed class Waiter(Releaser releaser)
    {
        public Releaser Releaser { get; } = releaser;

        public TaskCompletionSource<Releaser> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
