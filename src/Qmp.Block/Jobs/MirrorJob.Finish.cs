using Qmp.Block.Backends;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Jobs;

// The job's end (QEMU's mirror_exit_common): the pivot after job-complete, nothing after a soft cancel, cleanup always.
public sealed partial class MirrorJob
{
    /// <inheritdoc/>
    protected override Task CommitAsync(CancellationToken cancellationToken) => _graph.ChangeAsync(async () =>
    {
        try
        {
            if (_shouldComplete)
                await PivotAsync(cancellationToken).ConfigureAwait(false);
            else
                await SetTargetBackingAsync().ConfigureAwait(false);
        }
        finally
        {
            await CleanUpAsync(pivoted: _shouldComplete).ConfigureAwait(false);
        }
        return true;
    }, cancellationToken);

    /// <inheritdoc/>
    protected override Task AbortAsync(CancellationToken cancellationToken) => _graph.ChangeAsync(async () =>
    {
        await CleanUpAsync(pivoted: false).ConfigureAwait(false);
        return true;
    }, cancellationToken);

    // The target takes the place of the source (or of replaces) under every backend and parent node, in a drained section.
    private async Task PivotAsync(CancellationToken cancellationToken)
    {
        var toReplace = _replaces is null ? _source : _graph.FindNode(_replaces) ?? throw new BlockGraphException($"Node name '{_replaces}' not found");
        using var drained = await DrainedSection.BeginAsync(_target, cancellationToken).ConfigureAwait(false);
        if (toReplace.ReadOnly != _target.ReadOnly)
            await _target.ReopenAsync(toReplace.ReadOnly, cancellationToken).ConfigureAwait(false);
        await SetTargetBackingAsync().ConfigureAwait(false);
        foreach (var backend in toReplace.Users.OfType<BlockBackend>().ToList())
        {
            backend.Eject();
            backend.Insert(_target);
        }
        foreach (var link in toReplace.ParentLinks.ToList())
        {
            // The target's own chain keeps pointing at the source (sync none backs the target by it).
            if (InChain(_target, link.Parent))
                continue;
            link.Parent.RemoveChild(toReplace);
            link.Parent.AddChild(link.Role, _target);
        }
    }

    // drive-mirror with absolute paths: the target's image names the source's backing (none mode: the source); now the node links to it too.
    private Task SetTargetBackingAsync()
    {
        if (_backingMode != MirrorBackingMode.Source || _target is not Qcow2Node || _target.Backing is not null)
            return Task.CompletedTask;
        var backing = _sync == MirrorSyncMode.None ? _source : _base;
        if (backing is not null)
            _target.ReplaceChild("backing", backing);
        return Task.CompletedTask;
    }

    // Stops watching the source (in a drained section, so no write is half-mirrored), lets the source run again and drops what the job opened.
    private async Task CleanUpAsync(bool pivoted)
    {
        if (_heldDrain is null)
        {
            using (await DrainedSection.BeginAsync(_source).ConfigureAwait(false))
                StopWatching();
        }
        else
        {
            StopWatching();
            await ReleaseDrainAsync().ConfigureAwait(false);
        }
        if (_commit && _baseWasReadOnly && !pivoted && !_target.ReadOnly)
        {
            try
            {
                using (await DrainedSection.BeginAsync(_target).ConfigureAwait(false))
                    await _target.ReopenAsync(readOnly: true).ConfigureAwait(false);
            }
            catch (BlockException)
            {
                // QEMU ignores a failed reopen here too; the base stays writable.
            }
        }
        _target.RemoveUser(_targetUser);
        if (pivoted && _replaces is null)
        {
            Release(_source);
            await _graph.CloseIfUnusedAsync(_source).ConfigureAwait(false);
        }
        else if (_closeTargetAtEnd && !pivoted)
        {
            await _graph.CloseIfUnusedAsync(_target).ConfigureAwait(false);
        }
    }

    private void StopWatching()
    {
        _finished = true;
        _source.RemoveWriteNotifier(this);
    }

    private static bool InChain(BlockNode top, BlockNode node)
    {
        for (BlockNode? at = top; at is not null; at = at.Backing)
        {
            if (at == node)
                return true;
        }
        return false;
    }
}
