namespace Qmp.Block.Tests.Qcow2;

/// <summary>
/// A pass-through protocol node that, while <see cref="Holding"/>, holds writes of at least <c>minLength</c> bytes
/// (a qcow2 node's data writes; its metadata updates are smaller) until <see cref="Release"/>, counting how many
/// are held at once.
/// </summary>
internal sealed class HoldingFileNode(BlockNode inner, int minLength) : BlockNode(inner.ReadOnly)
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _watchers = [];
    private int _held;

    /// <summary>Whether big writes are held (until <see cref="Release"/>, which ends holding for good).</summary>
    public bool Holding { get; set; }

    public override string DriverName => "file";

    public override long Length => inner.Length;

    public override string Filename => inner.Filename;

    protected override bool CanGrow => true;

    /// <summary>Completes once <paramref name="count"/> writes are held at the same time.</summary>
    public Task HeldAsync(int count)
    {
        lock (_gate)
        {
            if (_held >= count)
                return Task.CompletedTask;
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _watchers.Add((count, reached));
            return reached.Task;
        }
    }

    public int Held
    {
        get
        {
            lock (_gate)
                return _held;
        }
    }

    public void Release() => _release.TrySetResult();

    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        inner.ReadAsync(offset, buffer, cancellationToken);

    protected override async ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        if (Holding && data.Length >= minLength && !_release.Task.IsCompleted)
        {
            List<TaskCompletionSource> reached = [];
            lock (_gate)
            {
                _held++;
                foreach (var watcher in _watchers.Where(w => w.Count <= _held).ToList())
                {
                    _watchers.Remove(watcher);
                    reached.Add(watcher.Reached);
                }
            }
            reached.ForEach(r => r.TrySetResult());
            await _release.Task;
            lock (_gate)
                _held--;
        }
        await inner.WriteAsync(offset, data, flags, cancellationToken);
    }

    protected override ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        inner.WriteZeroesAsync(offset, length, flags, cancellationToken);

    protected override ValueTask DiscardCoreAsync(long offset, long length, CancellationToken cancellationToken) =>
        inner.DiscardAsync(offset, length, cancellationToken);

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    protected override ValueTask TruncateCoreAsync(long length, CancellationToken cancellationToken) => inner.TruncateAsync(length, cancellationToken);
}
