namespace Qmp.Block.Jobs;

/// <summary>
/// The ranges a mirror is copying right now (QEMU's in-flight bitmap): a copy of a range waits for the
/// copies that overlap it, so an older copy never lands on the target after a newer one.
/// </summary>
internal sealed class MirrorInFlight
{
    private readonly List<Operation> _operations = [];

    /// <summary>Whether no range is being copied (the job loop counts its own copies' bytes itself).</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_operations)
                return _operations.Count == 0;
        }
    }

    /// <summary>Waits until nothing overlapping [offset, offset+length) is in flight, then holds the range until disposed.</summary>
    public async ValueTask<IDisposable> EnterAsync(long offset, long length, CancellationToken cancellationToken)
    {
        var operation = new Operation(this, offset, offset + length);
        while (true)
        {
            Task? wait = null;
            lock (_operations)
            {
                foreach (var other in _operations)
                {
                    if (other.Start < operation.End && operation.Start < other.End)
                    {
                        wait = other.Done.Task;
                        break;
                    }
                }
                if (wait is null)
                {
                    _operations.Add(operation);
                    return operation;
                }
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Operation(MirrorInFlight owner, long start, long end) : IDisposable
    {
        public long Start { get; } = start;

        public long End { get; } = end;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Dispose()
        {
            lock (owner._operations)
                owner._operations.Remove(this);
            Done.TrySetResult();
        }
    }
}
