namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <summary>
    /// Checks the image as <c>qemu-img check</c> does: counts the references to every host cluster from the header,
    /// the active and snapshot L1/L2 tables, the snapshot table and the refcount structure, compares them with the
    /// stored refcounts and checks the COPIED flags; then repairs what <paramref name="mode"/> allows and reports the
    /// image as it is afterwards.
    /// </summary>
    public async Task<Qcow2CheckResult> CheckAsync(Qcow2RepairMode mode, CancellationToken cancellationToken = default)
    {
        if (mode != Qcow2RepairMode.None && !Writable)
            throw new BlockException(BlockError.Permission, $"Node '{NodeName}' is read-only: cannot repair");
        using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
            return await CheckLockedAsync(mode, CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask<Qcow2CheckResult> CheckLockedAsync(Qcow2RepairMode mode, CancellationToken cancellationToken)
    {
        await WriteBackRefcountsAsync(cancellationToken).ConfigureAwait(false);
        var before = await AnalyzeAsync(cancellationToken).ConfigureAwait(false);
        var totalClusters = SizeToClusters(Length);
        if (mode == Qcow2RepairMode.None)
            return before.ToResult(Filename, totalClusters, _clusterSize);

        var result = before.ToResult(Filename, totalClusters, _clusterSize);
        if (before.Corruptions > 0 || before.Leaks > 0)
        {
            var messages = new List<string>(before.Messages);
            await RepairAsync(before, mode, messages, cancellationToken).ConfigureAwait(false);
            await WriteBackRefcountsAsync(cancellationToken).ConfigureAwait(false);
            var after = await AnalyzeAsync(cancellationToken).ConfigureAwait(false);
            messages.AddRange(after.Messages);
            result = after.ToResult(Filename, totalClusters, _clusterSize) with
            {
                LeaksFixed = Math.Max(0, before.Leaks - after.Leaks),
                CorruptionsFixed = Math.Max(0, before.Corruptions - after.Corruptions),
                Messages = messages,
            };
        }
        // As QEMU: a repairing check that leaves no corruption marks the image clean and consistent.
        var flags = Qcow2Format.IncompatDirty | Qcow2Format.IncompatCorrupt;
        if (result.Corruptions == 0 && result.CheckErrors == 0 && (_header.IncompatibleFeatures & flags) != 0)
        {
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            _header.IncompatibleFeatures &= ~flags;
            _dirtyBySelf = false;
            await WriteHeaderRangeAsync(72, 80, cancellationToken).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>One read-only pass over all metadata.</summary>
    private async ValueTask<Qcow2CheckState> AnalyzeAsync(CancellationToken cancellationToken)
    {
        var fileLength = _file.Length;
        var state = new Qcow2CheckState(_clusterBits, fileLength);
        state.Reference(0, _clusterSize);
        await CheckL1Async(state, _header.L1TableOffset, _l1, active: true, cancellationToken).ConfigureAwait(false);
        foreach (var snapshot in _snapshots)
        {
            if ((snapshot.L1TableOffset & ClusterMask) != 0 || (long)snapshot.L1Size * 8 > Qcow2Format.MaxL1Bytes)
            {
                state.Messages.Add($"ERROR snapshot {snapshot.Id} ({snapshot.Name}) has an invalid L1 table offset or size");
                state.Corruptions++;
                continue;
            }
            var l1 = await ReadTableAsync(snapshot.L1TableOffset, snapshot.L1Size, cancellationToken).ConfigureAwait(false);
            await CheckL1Async(state, snapshot.L1TableOffset, l1, active: false, cancellationToken).ConfigureAwait(false);
        }
        if (_header.SnapshotCount > 0)
            state.Reference(_header.SnapshotsOffset, _snapshotTableLength);
        var tableBytes = (long)_header.RefcountTableClusters << _clusterBits;
        state.Reference(_header.RefcountTableOffset, tableBytes);
        for (var c = _header.RefcountTableOffset >> _clusterBits; c < (_header.RefcountTableOffset + tableBytes) >> _clusterBits; c++)
            state.RefcountStructureClusters.Add(c);
        CheckRefBlocks(state);
        await CompareRefcountsAsync(state, cancellationToken).ConfigureAwait(false);
        await CheckCopiedAsync(state, repair: false, cancellationToken).ConfigureAwait(false);
        return state;
    }

    private async ValueTask CheckL1Async(Qcow2CheckState state, long l1Offset, ulong[] l1, bool active, CancellationToken cancellationToken)
    {
        if (l1.Length > 0)
            state.Reference(l1Offset, (long)l1.Length * 8);
        for (var i = 0; i < l1.Length; i++)
        {
            var entry = l1[i];
            if (entry == 0)
                continue;
            if ((entry & Qcow2Format.L1ReservedMask) != 0)
            {
                state.Messages.Add($"ERROR found L1 entry with reserved bits set: {entry:x}");
                state.Corruptions++;
            }
            var offset = Qcow2Entry.HostOffset(entry);
            if (offset == 0)
                continue;
            state.Reference(offset, _clusterSize);
            if ((offset & ClusterMask) != 0)
            {
                state.Messages.Add($"ERROR l2_offset={offset:x}: Table is not cluster aligned; L1 entry corrupted");
                state.Corruptions++;
                continue;
            }
            // Snapshot tables are read past the cache: they are never written through it.
            var table = active
                ? (await LoadL2Async(offset, cancellationToken).ConfigureAwait(false))!
                : await ReadTableAsync(offset, _l2Entries, cancellationToken).ConfigureAwait(false);
            CheckL2(state, table, active);
        }
    }

    private void CheckL2(Qcow2CheckState state, ulong[] table, bool active)
    {
        var nextContiguous = 0L;
        foreach (var entry in table)
        {
            var kind = Qcow2Entry.Classify(entry);
            if (kind != Qcow2ClusterKind.Compressed && (entry & Qcow2Format.L2StandardReservedMask) != 0)
            {
                state.Messages.Add($"ERROR found l2 entry with reserved bits set: {entry:x}");
                state.Corruptions++;
            }
            switch (kind)
            {
                case Qcow2ClusterKind.Compressed:
                    var (offset, length) = CompressedExtent(entry);
                    if (Qcow2Entry.IsCopied(entry))
                    {
                        state.Messages.Add($"ERROR: coffset=0x{offset:x}: copied flag must never be set for compressed clusters");
                        state.Corruptions++;
                    }
                    state.Reference(offset, length);
                    if (active)
                    {
                        state.AllocatedClusters++;
                        state.CompressedClusters++;
                        state.FragmentedClusters++;
                    }
                    break;
                case Qcow2ClusterKind.Normal:
                case Qcow2ClusterKind.ZeroAlloc:
                    var host = Qcow2Entry.HostOffset(entry);
                    if (active)
                    {
                        state.AllocatedClusters++;
                        if (nextContiguous != 0 && host != nextContiguous)
                            state.FragmentedClusters++;
                        nextContiguous = host + _clusterSize;
                    }
                    if ((host & ClusterMask) != 0)
                    {
                        var what = kind == Qcow2ClusterKind.Normal ? "Data cluster" : "Preallocated cluster";
                        state.Messages.Add($"ERROR offset={host:x}: {what} is not properly aligned; L2 entry corrupted.");
                        state.Corruptions++;
                        break;
                    }
                    state.Reference(host, _clusterSize);
                    break;
            }
        }
    }

    private void CheckRefBlocks(Qcow2CheckState state)
    {
        for (var i = 0; i < _refTable.Length; i++)
        {
            var entry = _refTable[i];
            if ((entry & Qcow2Format.RefTableReservedMask) != 0)
            {
                state.Messages.Add($"ERROR refcount table entry {i} has reserved bits set");
                state.Corruptions++;
                state.NeedsRebuild = true;
                continue;
            }
            var offset = (long)entry;
            if (offset == 0)
                continue;
            if ((offset & ClusterMask) != 0)
            {
                state.Messages.Add($"ERROR refcount block {i} is not cluster aligned; refcount table entry corrupted");
                state.Corruptions++;
                state.NeedsRebuild = true;
                continue;
            }
            var cluster = offset >> _clusterBits;
            if (cluster >= state.FileClusters)
            {
                state.Messages.Add($"ERROR refcount block {i} is outside image");
                state.Corruptions++;
                state.NeedsRebuild = true;
                continue;
            }
            state.Reference(offset, _clusterSize);
            state.RefcountStructureClusters.Add(cluster);
            if (state.References(cluster) != 1)
            {
                state.Messages.Add($"ERROR refcount block {i} refcount={state.References(cluster)}");
                state.Corruptions++;
                state.NeedsRebuild = true;
            }
        }
    }

    private async ValueTask CompareRefcountsAsync(Qcow2CheckState state, CancellationToken cancellationToken)
    {
        for (var cluster = 0L; cluster < state.FileClusters; cluster++)
        {
            var stored = await StoredRefcountAsync(cluster, state, cancellationToken).ConfigureAwait(false);
            var references = state.References(cluster);
            if (stored > 0 || references > 0)
                state.HighestCluster = cluster;
            if (stored == (ulong)references)
                continue;
            if (stored < (ulong)references)
            {
                state.Messages.Add($"ERROR cluster {cluster} refcount={stored} reference={references}");
                state.Corruptions++;
                state.NeedsRebuild = true;
            }
            else
            {
                state.Messages.Add($"Leaked cluster {cluster} refcount={stored} reference={references}");
                state.Leaks++;
                state.LeakedClusters.Add((cluster, stored, references));
            }
        }
    }

    // A refcount block the check found broken reads as all zeroes rather than failing the whole check.
    private async ValueTask<ulong> StoredRefcountAsync(long cluster, Qcow2CheckState state, CancellationToken cancellationToken)
    {
        var blockIndex = cluster >> _refBlockBits;
        if (!HasRefBlock(blockIndex))
            return 0;
        var offset = (long)_refTable[blockIndex];
        if ((offset & (long)Qcow2Format.RefTableReservedMask) != 0 || (offset & ClusterMask) != 0 || offset >> _clusterBits >= state.FileClusters)
            return 0;
        return await GetRefcountAsync(cluster, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks (and with <paramref name="repair"/>, fixes) the COPIED flags of the active L1 and L2 tables against the stored refcounts.</summary>
    private async ValueTask<int> CheckCopiedAsync(Qcow2CheckState? state, bool repair, CancellationToken cancellationToken)
    {
        var fixedCount = 0;
        for (var i = 0; i < _l1.Length; i++)
        {
            var l1Entry = _l1[i];
            var offset = Qcow2Entry.HostOffset(l1Entry);
            if (offset == 0 || (offset & ClusterMask) != 0)
                continue;
            var refcount = await SafeRefcountAsync(offset >> _clusterBits, cancellationToken).ConfigureAwait(false);
            if ((refcount == 1) != Qcow2Entry.IsCopied(l1Entry))
            {
                state?.Messages.Add($"{(repair ? "Repairing" : "ERROR")} OFLAG_COPIED L2 cluster: l1_index={i} l1_entry={l1Entry:x} refcount={refcount}");
                if (state is not null)
                    state.Corruptions++;
                if (repair)
                {
                    _l1[i] = refcount == 1 ? l1Entry | Qcow2Format.Copied : l1Entry & ~Qcow2Format.Copied;
                    await WriteL1EntryAsync(i, cancellationToken).ConfigureAwait(false);
                    fixedCount++;
                }
            }
            var table = (await LoadL2Async(offset, cancellationToken).ConfigureAwait(false))!;
            int low = int.MaxValue, high = -1;
            for (var j = 0; j < table.Length; j++)
            {
                var entry = table[j];
                if (Qcow2Entry.Classify(entry) is not (Qcow2ClusterKind.Normal or Qcow2ClusterKind.ZeroAlloc))
                    continue;
                var host = Qcow2Entry.HostOffset(entry);
                if ((host & ClusterMask) != 0)
                    continue;
                var dataRefcount = await SafeRefcountAsync(host >> _clusterBits, cancellationToken).ConfigureAwait(false);
                if ((dataRefcount == 1) == Qcow2Entry.IsCopied(entry))
                    continue;
                state?.Messages.Add($"{(repair ? "Repairing" : "ERROR")} OFLAG_COPIED data cluster: l2_entry={entry:x} refcount={dataRefcount}");
                if (state is not null)
                    state.Corruptions++;
                if (repair)
                {
                    table[j] = dataRefcount == 1 ? entry | Qcow2Format.Copied : entry & ~Qcow2Format.Copied;
                    low = Math.Min(low, j);
                    high = j;
                    fixedCount++;
                }
            }
            if (high >= 0)
                await WriteEntriesAsync(offset, table, low, high - low + 1, cancellationToken).ConfigureAwait(false);
        }
        return fixedCount;
    }

    private async ValueTask<ulong> SafeRefcountAsync(long cluster, CancellationToken cancellationToken)
    {
        var blockIndex = cluster >> _refBlockBits;
        if (!HasRefBlock(blockIndex) || ((long)_refTable[blockIndex] & (ClusterMask | (long)Qcow2Format.RefTableReservedMask)) != 0)
            return 0;
        return await GetRefcountAsync(cluster, cancellationToken).ConfigureAwait(false);
    }
}
