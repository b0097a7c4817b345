namespace Qmp.Block.Jobs;

public abstract partial class Job
{
    /// <summary>
    /// Waits, not busy, until the job is cancelled (backup sync=none: only copy-before-write works); pauses
    /// take effect at once, as for QEMU's job_yield.
    /// </summary>
    protected async Task IdleUntilCancelledAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task kicked;
            bool pauseAsked;
            lock (_lock)
            {
                if (!_isPaused)
                    Busy = false;
                kicked = _kick.Task;
                // A pause asked for while the job was busy is taken now, not after the sleep (as in IdleAsync).
                pauseAsked = PauseCount > 0 && !_isPaused;
            }
            if (!pauseAsked)
                await Task.WhenAny(Task.Delay(Timeout.Infinite, cancellationToken), kicked).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            _reentered = false;
            await PausePointAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
