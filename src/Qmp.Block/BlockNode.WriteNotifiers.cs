namespace Qmp.Block;

public abstract partial class BlockNode
{
    // Copied on change so the request path reads it without a lock; null while no one watches.
    private volatile IBlockWriteNotifier[]? _writeNotifiers;

    /// <summary>Whether something watches the requests that change this node.</summary>
    public bool HasWriteNotifiers => _writeNotifiers is not null;

    /// <summary>
    /// Starts telling <paramref name="notifier"/> about every request that changes this node. Requests
    /// already in flight are not reported: add notifiers inside a drained section of the node when that matters.
    /// </summary>
    public void AddWriteNotifier(IBlockWriteNotifier notifier)
    {
        lock (_idleLock)
        {
            var current = _writeNotifiers ?? [];
            if (Array.IndexOf(current, notifier) >= 0)
                return;
            _writeNotifiers = [.. current, notifier];
        }
    }

    /// <summary>Stops telling <paramref name="notifier"/> about requests (requests in flight may still call it).</summary>
    public void RemoveWriteNotifier(IBlockWriteNotifier notifier)
    {
        lock (_idleLock)
        {
            var current = _writeNotifiers;
            if (current is null || Array.IndexOf(current, notifier) < 0)
                return;
            var rest = current.Where(n => !ReferenceEquals(n, notifier)).ToArray();
            _writeNotifiers = rest.Length == 0 ? null : rest;
        }
    }

    // Runs a changing request between the notifiers' before and after calls (the caller has entered the request).
    private async ValueTask NotifiedWriteAsync(BlockWriteRequest request, Func<ValueTask> core, CancellationToken cancellationToken)
    {
        var notifiers = _writeNotifiers;
        if (notifiers is null)
        {
            await core().ConfigureAwait(false);
            return;
        }
        foreach (var notifier in notifiers)
            await notifier.BeforeWriteAsync(this, request, cancellationToken).ConfigureAwait(false);
        try
        {
            await core().ConfigureAwait(false);
        }
        catch
        {
            foreach (var notifier in notifiers)
            {
                try
                {
                    await notifier.AfterWriteAsync(this, request, false, cancellationToken).ConfigureAwait(false);
                }
                catch (BlockException)
                {
                    // The request's own error is the one its issuer must see.
                }
            }
            throw;
        }
        foreach (var notifier in notifiers)
            await notifier.AfterWriteAsync(this, request, true, cancellationToken).ConfigureAwait(false);
    }
}
