namespace Qmp.Block.Qcow2;

/// <summary>
/// Guest cluster ranges whose allocating writes are between allocation and linking (QEMU's cluster_allocs):
/// a later write touching any of those clusters waits for the earlier one to link its L2 entries, so two
/// writes never allocate the same guest cluster twice. Used under the node's allocation lock.
/// </summary>
internal sealed class Qcow2AllocationsInFlight
{
    private readonly List<(long First, long Last, TaskCompletionSource Done)> _ranges = [];

    /// <summary>The completion of an in-flight write overlapping clusters [<paramref name="first"/>, <paramref name="last"/>], or null.</summary>
    public Task? FindOverlap(long first, long last)
    {
        foreach (var (f, l, done) in _ranges)
        {
            if (f <= last && first <= l)
                return done.Task;
        }
        return null;
    }

    /// <summary>Claims clusters [<paramref name="first"/>, <paramref name="last"/>]; the caller checked there is no overlap.</summary>
    public TaskCompletionSource Add(long first, long last)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ranges.Add((first, last, done));
        return done;
    }

    /// <summary>Ends a claim and lets the writes waiting on it go on.</summary>
    public void Remove(TaskCompletionSource claim)
    {
        _ranges.RemoveAll(r => r.Done == claim);
        claim.TrySetResult();
    }
}
