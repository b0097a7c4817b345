using Qmp.Block.Qcow2;

namespace Qmp.Block.Jobs;

/// <summary>
/// block-commit of an intermediate part of a chain (job type "commit"): copies what the nodes from the top
/// down to just above the base hold into the base, then re-points the overlay above the top to the base
/// (rewriting its backing file string) and drops the committed nodes. A read-only base is reopened
/// read-write for the job and read-only again afterwards, whatever the outcome.
/// </summary>
/// <remarks>
/// The guest writes only above the top, so the data committed never changes while the job runs, and the
/// ranges written into the base are ones the chain reads from the committed nodes, never from the base:
/// copying needs no drained section. Until the job finalizes, the overlay's header still names the top,
/// so a process killed mid-commit leaves a chain that reads as before (the base at worst has leaked clusters).
/// Active commit (the top is the active layer) is a different job (mirror-based) and not made here.
/// </remarks>
public sealed partial class CommitJob : Job
{
    private const int ChunkSize = 512 * 1024;
    private static readonly TimeSpan IgnoredErrorRetryDelay = TimeSpan.FromMilliseconds(10);
    private readonly BlockGraph _graph;
    private readonly BlockNode _top;
    private readonly BlockNode _base;
    private readonly BlockNode _overlay;
    private readonly List<BlockNode> _intermediates;
    private readonly string? _backingFile;
    private readonly bool _baseWasReadOnly;
    private readonly CommitJobBaseUser _baseUser;
    private readonly TaskCompletionSource _firstCopy = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _baseRestored;

    private CommitJob(BlockGraph graph, string id, CommitPlan plan, List<BlockNode> intermediates, string? backingFile, bool baseWasReadOnly, JobOptions options)
        : base(graph.Jobs, id, options)
    {
        _graph = graph;
        _top = plan.Top;
        _base = plan.Base;
        _overlay = plan.Overlay!;
        _intermediates = intermediates;
        _backingFile = backingFile;
        _baseWasReadOnly = baseWasReadOnly;
        _baseUser = new CommitJobBaseUser(id);
    }

    /// <inheritdoc/>
    public override string Type => "commit";

    /// <inheritdoc/>
    protected override bool IgnoredErrorsFailJob => false;

    /// <summary>The node data is committed into.</summary>
    public BlockNode Base => _base;

    /// <inheritdoc/>
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CommitDataAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _firstCopy.TrySetResult();
        }
    }

    // QEMU's commit_run: the chunks some committed node allocates are copied, the others only counted.
    private async Task CommitDataAsync(CancellationToken cancellationToken)
    {
        var length = _top.Length;
        // A smaller base grows to the top's size (it is never shrunk).
        if (_base.Length < length)
            await RequestAsync(false, () => _base.TruncateAsync(length, cancellationToken), cancellationToken).ConfigureAwait(false);
        SetTotal(length);
        var buffer = new byte[ChunkSize];
        for (long offset = 0; offset < length;)
        {
            await PausePointAsync(cancellationToken).ConfigureAwait(false);
            var (run, copy) = await AllocatedAboveBaseAsync(offset, Math.Min(ChunkSize, length - offset), cancellationToken).ConfigureAwait(false);
            if (copy)
            {
                var data = buffer.AsMemory(0, (int)run);
                // An ignored error retries the same range, as QEMU's commit does (after a short pause, not in a hot loop).
                if (!await RequestAsync(true, () => _top.ReadAsync(offset, data, cancellationToken), cancellationToken).ConfigureAwait(false)
                    || !await RequestAsync(false, () => _base.WriteAsync(offset, data, BlockWriteFlags.None, cancellationToken), cancellationToken).ConfigureAwait(false))
                {
                    await Task.Delay(IgnoredErrorRetryDelay, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                offset += run;
                await ThrottleAsync(run, () => _firstCopy.TrySetResult(), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Unallocated runs cost no time, as QEMU only throttles copied bytes.
                offset += run;
                AddProgress(run);
            }
        }
        await RequestAsync(false, () => _base.FlushAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override Task CommitAsync(CancellationToken cancellationToken) => _graph.ChangeAsync(async () =>
    {
        await InOwnDrainedSectionAsync(_overlay, async () =>
        {
            // The header first: if it cannot be written, the graph is left as it was and the job fails.
            if (_overlay is Qcow2Node qcow2)
                await RewriteBackingFileAsync(qcow2, cancellationToken).ConfigureAwait(false);
            _overlay.ReplaceChild("backing", _base);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        foreach (var node in _intermediates)
            Release(node);
        await _graph.CloseIfUnusedAsync(_top).ConfigureAwait(false);
        await RestoreBaseAsync().ConfigureAwait(false);
        return true;
    }, cancellationToken);

    /// <inheritdoc/>
    protected override Task AbortAsync(CancellationToken cancellationToken) =>
        _graph.ChangeAsync(async () =>
        {
            await RestoreBaseAsync().ConfigureAwait(false);
            return true;
        }, cancellationToken);

    // QEMU's bdrv_drop_intermediate: the overlay names the base (the given string, else the base's file name) and its format; a read-only overlay is reopened for it.
    private async Task RewriteBackingFileAsync(Qcow2Node overlay, CancellationToken cancellationToken)
    {
        var readOnly = overlay.ReadOnly;
        if (readOnly)
            await overlay.ReopenAsync(readOnly: false, cancellationToken).ConfigureAwait(false);
        try
        {
            await overlay.ChangeBackingFileAsync(_backingFile ?? _base.Filename, _base.DriverName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (readOnly)
                await overlay.ReopenAsync(readOnly: true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    // QEMU's commit_clean: the job lets go of the base, and a base that was read-only becomes so again (failing that is not the job's failure).
    private async Task RestoreBaseAsync()
    {
        if (Interlocked.Exchange(ref _baseRestored, 1) != 0)
            return;
        _base.RemoveUser(_baseUser);
        if (!_baseWasReadOnly)
            return;
        try
        {
            await InOwnDrainedSectionAsync(_base, async () =>
            {
                await _base.ReopenAsync(readOnly: true, CancellationToken.None).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BlockException or IOException)
        {
        }
    }

    // How long the run at offset is (at most length) and whether a committed node holds it (QEMU's bdrv_is_allocated_above, base excluded).
    private async Task<(long Length, bool Copy)> AllocatedAboveBaseAsync(long offset, long length, CancellationToken cancellationToken)
    {
        var unallocated = length;
        foreach (var node in _intermediates)
        {
            // Past the end of a shorter node the chain reads zeroes there, which the base must get too.
            if (offset >= node.Length)
                return (unallocated, true);
            var status = await node.GetStatusAsync(offset, Math.Min(length, node.Length - offset), cancellationToken).ConfigureAwait(false);
            var run = Math.Max(1, status.Length);
            // Reading through the top gives the chain's data for the whole run, whichever layer holds each part.
            if ((status.Flags & BlockStatusFlags.Allocated) != 0)
                return (run, true);
            unallocated = Math.Min(unallocated, run);
        }
        return (unallocated, false);
    }
}
