namespace Qmp.Monitor.Protocol;

/// <summary>
/// An auto-reset wake-up for the dispatcher. Unlike a semaphore's, the waiter's continuation runs
/// inline on the thread that calls <see cref="Set"/>: the socket reader that has just parsed a
/// command goes on to dispatch it itself, without handing it to another thread (the hand-off cost
/// more than the command). Signals that arrive while nobody waits are kept as one.
/// </summary>
internal sealed class WakeSignal
{
    private readonly object _lock = new();
    private TaskCompletionSource? _waiter;
    private bool _signalled;

    /// <summary>Consumes a pending signal, if there is one, without waiting.</summary>
    public bool TryConsume()
    {
        lock (_lock)
        {
            var signalled = _signalled;
            _signalled = false;
            return signalled;
        }
    }

    /// <summary>Completes at the next <see cref="Set"/> (at once if one is pending).</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_signalled)
            {
                _signalled = false;
                return Task.CompletedTask;
            }
            // No RunContinuationsAsynchronously: that is the point of this class.
            _waiter = waiter = new TaskCompletionSource();
        }
        if (cancellationToken.CanBeCanceled)
            cancellationToken.Register(static w => ((TaskCompletionSource)w!).TrySetCanceled(), waiter);
        return waiter.Task;
    }

    /// <summary>Wakes the waiter, running its continuation on this thread, or leaves a signal.</summary>
    public void Set()
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            waiter = _waiter;
            _waiter = null;
            if (waiter is null)
                _signalled = true;
        }
        waiter?.TrySetResult();
    }
}
