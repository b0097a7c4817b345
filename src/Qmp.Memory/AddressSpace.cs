namespace Qmp.Memory;

/// <summary>
/// A guest physical address space: regions mapped at addresses with priorities (a higher priority
/// hides what lies below, as the APIC page hides RAM), flattened into sorted non-overlapping
/// ranges on every change. The flat view is immutable and swapped atomically, so DMA on other
/// threads can look up addresses while the machine thread remaps. Reads of unassigned addresses
/// return 0 and writes to them are dropped, as in QEMU.
/// </summary>
public sealed class AddressSpace(string name)
{
    private readonly List<Mapping> _mappings = [];
    private FlatRange[] _flat = [];

    /// <summary>The address space's name (<c>memory</c>, <c>I/O</c>).</summary>
    public string Name { get; } = name;

    /// <summary>The current flattened view, sorted by address.</summary>
    public IReadOnlyList<FlatRange> FlatView => Volatile.Read(ref _flat);

    /// <summary>Raised after the layout changed, so CPUs drop cached translations.</summary>
    public event Action? LayoutChanged;

    /// <summary>Maps <paramref name="region"/> at <paramref name="address"/>.</summary>
    /// <exception cref="InvalidOperationException">The region is already mapped here, or overlaps a region of the same priority.</exception>
    public void Map(ulong address, MemoryRegion region, int priority = 0)
    {
        if (address + region.Size < address)
            throw new ArgumentOutOfRangeException(nameof(address), $"region {region.Name} at {address:#x} wraps the address space");
        lock (_mappings)
        {
            foreach (var m in _mappings)
            {
                if (ReferenceEquals(m.Region, region))
                    throw new InvalidOperationException($"region {region.Name} is already mapped in {Name}");
                if (m.Priority == priority && address < m.Address + m.Region.Size && m.Address < address + region.Size)
                    throw new InvalidOperationException($"region {region.Name} at {address:#x} overlaps {m.Region.Name} at {m.Address:#x}");
            }
            _mappings.Add(new Mapping(address, region, priority));
            Rebuild();
        }
        LayoutChanged?.Invoke();
    }

    /// <summary>Removes <paramref name="region"/>; nothing happens if it is not mapped (unmapping cannot fail).</summary>
    public void Unmap(MemoryRegion region)
    {
        lock (_mappings)
        {
            if (_mappings.RemoveAll(m => ReferenceEquals(m.Region, region)) == 0)
                return;
            Rebuild();
        }
        LayoutChanged?.Invoke();
    }

    /// <summary>Whether <paramref name="region"/> is mapped here.</summary>
    public bool IsMapped(MemoryRegion region)
    {
        lock (_mappings)
            return _mappings.Exists(m => ReferenceEquals(m.Region, region));
    }

    /// <summary>The range containing <paramref name="address"/>, or null when nothing is mapped there.</summary>
    public FlatRange? Find(ulong address)
    {
        var flat = Volatile.Read(ref _flat);
        int lo = 0, hi = flat.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var range = flat[mid];
            if (address < range.Start)
                hi = mid - 1;
            else if (address >= range.End)
                lo = mid + 1;
            else
                return range;
        }
        return null;
    }

    /// <summary>Reads 1, 2, 4 or 8 bytes, little-endian, from RAM, ROM or device registers.</summary>
    public unsafe ulong Read(ulong address, int size)
    {
        var range = Find(address);
        if (range is null || address + (ulong)size > range.End)
            return ReadSplit(address, size);
        var region = range.Region;
        if (region.Kind == MemoryRegionKind.Io)
            return IoDispatch.Read(region.Handler!, region.Rules, range.OffsetOf(address), size);
        ulong value = 0;
        // SAFETY: the range lies inside the region's slice of its RAM block (checked above).
        Buffer.MemoryCopy(region.Block!.Host + range.BlockOffsetOf(address), &value, 8, size);
        return value;
    }

    /// <summary>Writes 1, 2, 4 or 8 bytes, little-endian; ROM and unassigned addresses drop the write.</summary>
    public unsafe void Write(ulong address, int size, ulong value)
    {
        var range = Find(address);
        if (range is null || address + (ulong)size > range.End)
        {
            WriteSplit(address, size, value);
            return;
        }
        var region = range.Region;
        switch (region.Kind)
        {
            case MemoryRegionKind.Io:
                IoDispatch.Write(region.Handler!, region.Rules, range.OffsetOf(address), size, value);
                break;
            case MemoryRegionKind.Ram:
                var offset = range.BlockOffsetOf(address);
                // SAFETY: the range lies inside the region's slice of its RAM block (checked above).
                Buffer.MemoryCopy(&value, region.Block!.Host + offset, size, size);
                region.Block.NotifyWritten(offset, size);
                break;
        }
    }

    /// <summary>Copies guest memory out (DMA, loaders, migration); device registers are read bytewise.</summary>
    public void Read(ulong address, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var range = Find(address);
            var chunk = Chunk(address, destination.Length, range);
            if (range is null)
                destination[..chunk].Clear();
            else if (range.Region.Kind == MemoryRegionKind.Io)
            {
                for (var i = 0; i < chunk; i++)
                    destination[i] = (byte)Read(address + (ulong)i, 1);
            }
            else
                range.Region.Block!.Read(range.BlockOffsetOf(address), destination[..chunk]);
            address += (ulong)chunk;
            destination = destination[chunk..];
        }
    }

    /// <summary>Copies bytes into guest memory; RAM writes are tracked, ROM and holes drop them.</summary>
    public void Write(ulong address, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            var range = Find(address);
            var chunk = Chunk(address, source.Length, range);
            if (range is not null)
            {
                switch (range.Region.Kind)
                {
                    case MemoryRegionKind.Io:
                        for (var i = 0; i < chunk; i++)
                            Write(address + (ulong)i, 1, source[i]);
                        break;
                    case MemoryRegionKind.Ram:
                        range.Region.Block!.Write(range.BlockOffsetOf(address), source[..chunk]);
                        break;
                }
            }
            address += (ulong)chunk;
            source = source[chunk..];
        }
    }

    /// <summary>
    /// Writes ROM contents, as a loader does: ROM regions are written too (unlike guest writes).
    /// </summary>
    public void LoadImage(ulong address, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            var range = Find(address);
            var chunk = Chunk(address, source.Length, range);
            if (range is null || range.Region.Kind == MemoryRegionKind.Io)
                throw new InvalidOperationException($"cannot load {source.Length} bytes at {address:#x}: no RAM or ROM there");
            range.Region.Block!.Write(range.BlockOffsetOf(address), source[..chunk]);
            address += (ulong)chunk;
            source = source[chunk..];
        }
    }

    /// <summary>The distinct RAM blocks mapped in this space.</summary>
    public IReadOnlyList<RamBlock> RamBlocks()
    {
        lock (_mappings)
            return [.. _mappings.Select(m => m.Region.Block).OfType<RamBlock>().Distinct()];
    }

    private static int Chunk(ulong address, int length, FlatRange? range)
    {
        if (range is not null)
            return (int)Math.Min((ulong)length, range.End - address);
        return length;
    }

    private ulong ReadSplit(ulong address, int size)
    {
        ulong value = 0;
        for (var i = 0; i < size; i++)
        {
            var a = address + (ulong)i;
            value |= (Find(a) is null ? 0 : Read(a, 1)) << (i * 8);
        }
        return value;
    }

    private void WriteSplit(ulong address, int size, ulong value)
    {
        for (var i = 0; i < size; i++)
        {
            var a = address + (ulong)i;
            if (Find(a) is not null)
                Write(a, 1, (value >> (i * 8)) & 0xFF);
        }
    }

    // Paints the mappings from the lowest priority up, then merges neighbours of one region.
    private void Rebuild()
    {
        var edges = new SortedSet<ulong>();
        foreach (var m in _mappings)
        {
            edges.Add(m.Address);
            edges.Add(m.Address + m.Region.Size);
        }
        var flat = new List<FlatRange>();
        ulong? previous = null;
        foreach (var edge in edges)
        {
            if (previous is { } start)
            {
                Mapping? top = null;
                foreach (var m in _mappings)
                {
                    if (m.Address <= start && start < m.Address + m.Region.Size && (top is null || m.Priority > top.Priority))
                        top = m;
                }
                if (top is not null)
                {
                    var last = flat.Count > 0 ? flat[^1] : null;
                    if (last is not null && last.End == start && ReferenceEquals(last.Region, top.Region))
                        flat[^1] = new FlatRange(last.Start, edge, last.Region, last.RegionOffset);
                    else
                        flat.Add(new FlatRange(start, edge, top.Region, start - top.Address));
                }
            }
            previous = edge;
        }
        Volatile.Write(ref _flat, [.. flat]);
    }

    private sealed record Mapping(ulong Address, MemoryRegion Region, int Priority);
}
