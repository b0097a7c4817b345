namespace Qmp.Machine;

// Guest memory as a debugger sees it (QMP pmemsave and memsave): read on the machine thread,
// between translation blocks, so device registers and the CPU's paging are consistent.
public sealed partial class Machine
{
    private const int DebugPageSize = 4096;

    /// <summary>Whether the machine has a CPU (<c>-M none</c> has none, as in QEMU).</summary>
    public bool HasCpu => _board is not null;

    /// <summary>
    /// Reads guest-physical memory into <paramref name="destination"/> as the system bus sees it:
    /// RAM, ROM and device registers; addresses where nothing is mapped read as zero, and the
    /// address wraps at 2^64, as QEMU's physical reads do.
    /// </summary>
    public Task ReadPhysicalAsync(ulong address, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => ReadPhysical(address, destination.Span), cancellationToken);

    /// <summary>
    /// Reads memory through the CPU's current paging (see <see cref="Qmp.Cpu.X86.X86Cpu.DebugTranslate"/>)
    /// without side effects on page tables. Stops at the first byte whose page is not mapped or
    /// whose physical address has nothing behind it; returns how many bytes were read.
    /// </summary>
    public Task<int> ReadVirtualAsync(ulong address, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => ReadVirtual(address, destination.Span), cancellationToken);

    private void ReadPhysical(ulong address, Span<byte> destination)
    {
        var memory = _board?.Cpu.Memory;
        while (!destination.IsEmpty)
        {
            // Page by page, so a read that runs past 2^64 wraps to 0 instead of overflowing a range.
            var n = (int)Math.Min((ulong)destination.Length, DebugPageSize - (address & (DebugPageSize - 1)));
            if (memory is null)
                destination[..n].Clear();
            else
                memory.Read(address, destination[..n]);
            address = unchecked(address + (ulong)n);
            destination = destination[n..];
        }
    }

    private int ReadVirtual(ulong address, Span<byte> destination)
    {
        if (_board?.Cpu is not { } cpu)
            return 0;
        var done = 0;
        while (done < destination.Length)
        {
            var n = (int)Math.Min((ulong)(destination.Length - done), DebugPageSize - (address & (DebugPageSize - 1)));
            if (cpu.DebugTranslate(address) is not { } physical || !IsBacked(cpu.Memory, physical, n))
                return done;
            cpu.Memory.Read(physical, destination.Slice(done, n));
            done += n;
            address = unchecked(address + (ulong)n);
        }
        return done;
    }

    // QEMU's debug access fails on unassigned addresses (pmemsave's plain read does not).
    private static bool IsBacked(Qmp.Memory.AddressSpace memory, ulong address, int length)
    {
        var end = address + (ulong)length;
        while (address < end)
        {
            if (memory.Find(address) is not { } range)
                return false;
            address = range.End;
        }
        return true;
    }
}
