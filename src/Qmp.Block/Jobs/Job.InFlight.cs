namespace Qmp.Block.Jobs;

public abstract partial class Job
{
    /// <summary>
    /// Runs <paramref name="body"/> (several requests that belong together) as one request in flight: a drain that
    /// began first makes the job pause before it starts; once started, it runs to its end and drained sections
    /// wait for it. Backup copies a claimed cluster this way, because a guest write waiting for that cluster's
    /// copy keeps a drain from completing: pausing between the copy's read and write would deadlock.
    /// </summary>
    protected async Task<T> InFlightAsync<T>(Func<Task<T>> body, CancellationToken cancellationToken)
    {
        await EnterRequestAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The requests inside do not pause for drains (as the drain's owner's own would not).
            s_drainOwner.Value = this;
            return await body().ConfigureAwait(false);
        }
        finally
        {
            s_drainOwner.Value = null;
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
