namespace Qmp.Memory;

/// <summary>
/// The 64 KiB x86 port-I/O space. Every port maps directly to its region, so dispatch is one array
/// load. Unassigned ports read as all ones and drop writes (QEMU's unassigned_io_ops). An access
/// that straddles two regions, or runs past one, is split into bytes.
/// </summary>
public sealed class PortIoSpace
{
    /// <summary>Number of ports.</summary>
    public const int Size = 0x10000;

    private readonly PortMapping?[] _ports = new PortMapping?[Size];
    private readonly object _lock = new();

    /// <summary>Maps <paramref name="region"/> (an I/O region) at <paramref name="port"/>.</summary>
    /// <exception cref="InvalidOperationException">A port in the range is taken.</exception>
    public void Map(ushort port, MemoryRegion region)
    {
        if (region.Kind != MemoryRegionKind.Io)
            throw new ArgumentException($"{region.Name} is not an I/O region", nameof(region));
        if (port + region.Size > Size)
            throw new ArgumentOutOfRangeException(nameof(port), $"{region.Name} at {port:#x} runs past port 0xffff");
        var mapping = new PortMapping(port, region);
        var end = port + (int)region.Size;
        lock (_lock)
        {
            for (var p = (int)port; p < end; p++)
            {
                if (_ports[p] is { } taken)
                    throw new InvalidOperationException($"I/O port {p:#x} of {region.Name} is already used by {taken.Region.Name}");
            }
            for (var p = (int)port; p < end; p++)
                Volatile.Write(ref _ports[p], mapping);
        }
    }

    /// <summary>Removes <paramref name="region"/>; nothing happens if it is not mapped.</summary>
    public void Unmap(MemoryRegion region)
    {
        lock (_lock)
        {
            for (var p = 0; p < Size; p++)
            {
                if (_ports[p] is { } m && ReferenceEquals(m.Region, region))
                    Volatile.Write(ref _ports[p], null);
            }
        }
    }

    /// <summary>The region at <paramref name="port"/>, if any.</summary>
    public MemoryRegion? Find(ushort port) => Volatile.Read(ref _ports[port])?.Region;

    /// <summary>IN of 1, 2 or 4 bytes.</summary>
    public uint Read(ushort port, int size)
    {
        var mapping = Volatile.Read(ref _ports[port]);
        if (mapping is not null && port + size <= mapping.End)
            return (uint)IoDispatch.Read(mapping.Region.Handler!, mapping.Region.Rules, (ulong)(port - mapping.Base), size);
        if (mapping is null && size == 1)
            return 0xFF;
        uint value = 0;
        for (var i = 0; i < size; i++)
            value |= Read((ushort)(port + i), 1) << (i * 8);
        return value;
    }

    /// <summary>OUT of 1, 2 or 4 bytes.</summary>
    public void Write(ushort port, int size, uint value)
    {
        var mapping = Volatile.Read(ref _ports[port]);
        if (mapping is not null && port + size <= mapping.End)
        {
            IoDispatch.Write(mapping.Region.Handler!, mapping.Region.Rules, (ulong)(port - mapping.Base), size, value);
            return;
        }
        if (mapping is null && size == 1)
            return;
        for (var i = 0; i < size; i++)
            Write((ushort)(port + i), 1, (value >> (i * 8)) & 0xFF);
    }

    private sealed class PortMapping(ushort port, MemoryRegion region)
    {
        public int Base { get; } = port;
        public int End { get; } = port + (int)region.Size;
        public MemoryRegion Region { get; } = region;
    }
}
