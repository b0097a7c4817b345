namespace Qmp.Block;

public abstract partial class BlockNode
{
    /// <summary>
    /// Inactivates this node and then the children no active parent still needs: writes are refused
    /// from the start, running requests finish, caches are flushed and dropped and write locks released.
    /// On failure the node stays <see cref="BlockActivation.Inactivating"/>; <see cref="ActivateAsync"/> recovers it.
    /// </summary>
    public async Task InactivateAsync(CancellationToken cancellationToken = default)
    {
        if (_activation == BlockActivation.Inactive)
            return;
        // Marked before trying, so a failure never leaves a node that looks active but is not.
        _activation = BlockActivation.Inactivating;
        await WaitIdleAsync().ConfigureAwait(false);
        await InactivateCoreAsync(cancellationToken).ConfigureAwait(false);
        _activation = BlockActivation.Inactive;
        foreach (var child in Children)
        {
            if (child.Node.ParentLinks.All(p => p.Parent.Activation != BlockActivation.Active))
                await child.Node.InactivateAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Activates the children, then this node: takes the image locks again and re-reads metadata another process may have written.</summary>
    public async Task ActivateAsync(CancellationToken cancellationToken = default)
    {
        foreach (var child in Children)
            await child.Node.ActivateAsync(cancellationToken).ConfigureAwait(false);
        if (_activation == BlockActivation.Active)
            return;
        await ActivateCoreAsync(cancellationToken).ConfigureAwait(false);
        _activation = BlockActivation.Active;
    }

    /// <summary>
    /// Reopens the node read-write or read-only with its protocol child (QEMU's bdrv_reopen_set_read_only, as
    /// block-commit does to its base): read-write, the child goes first; read-only, this node first, so it can
    /// write its metadata back. The caller holds a drained section of the node; on failure nothing changed.
    /// </summary>
    public async Task ReopenAsync(bool readOnly, CancellationToken cancellationToken = default)
    {
        if (ReadOnly == readOnly)
            return;
        if (Activation != BlockActivation.Active)
            throw new BlockException(BlockError.Permission, $"Node '{NodeName}' is inactive");
        // A node the user opened read-only stays so (QEMU's permission check on the reopened node).
        if (!readOnly && !AllowWritableReopen)
            throw new BlockException(BlockError.Permission, "Block node is read-only");
        var file = File;
        if (!readOnly && file is not null)
            await file.ReopenAsync(readOnly: false, cancellationToken).ConfigureAwait(false);
        ReadOnly = readOnly;
        try
        {
            await ReopenCoreAsync(readOnly, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReadOnly = !readOnly;
            if (!readOnly && file is not null)
                await file.ReopenAsync(readOnly: true, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (readOnly && file is not null)
            await file.ReopenAsync(readOnly: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Makes the driver's state match <see cref="ReadOnly"/> (already set to the new value); throwing keeps the old mode.</summary>
    protected virtual ValueTask ReopenCoreAsync(bool readOnly, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Releases the node's host resources; called once, when the graph drops the node.</summary>
    internal async ValueTask CloseAsync()
    {
        await WaitIdleAsync().ConfigureAwait(false);
        await CloseCoreAsync().ConfigureAwait(false);
    }

    /// <summary>Flushes and drops caches and releases write locks; by default, a flush of a writable node.</summary>
    protected virtual async ValueTask InactivateCoreAsync(CancellationToken cancellationToken)
    {
        if (!ReadOnly)
            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Takes locks and re-reads metadata; by default nothing to do.</summary>
    protected virtual ValueTask ActivateCoreAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Writes back what must persist and closes host files; must not throw.</summary>
    protected virtual ValueTask CloseCoreAsync() => ValueTask.CompletedTask;
}
