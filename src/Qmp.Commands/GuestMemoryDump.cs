using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>pmemsave and memsave: guest memory copied to a host file in batches read on the machine thread.</summary>
internal static class GuestMemoryDump
{
    // QEMU copies through a 1 KiB buffer: a failed memsave leaves the whole steps before the bad one in the file.
    private const int Step = 1024;

    // One batch per visit to the machine thread: large enough to be quick, small enough not to stall the guest.
    private const int Batch = 1 << 20;

    /// <summary>Copies [<paramref name="address"/>, +<paramref name="size"/>) of guest-physical memory to <paramref name="filename"/>.</summary>
    public static async Task PhysicalAsync(Machine.Machine machine, long address, long size, string filename, CancellationToken cancellationToken)
    {
        CheckSize(size);
        await using var file = HostFile.Create(filename);
        var buffer = new byte[(int)Math.Min(size, Batch)];
        var next = (ulong)address;
        for (var left = size; left > 0;)
        {
            var n = (int)Math.Min(left, buffer.Length);
            await machine.ReadPhysicalAsync(next, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            await WriteAsync(file, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            next = unchecked(next + (ulong)n);
            left -= n;
        }
    }

    /// <summary>Copies memory at virtual <paramref name="address"/>, translated by the CPU's paging, to <paramref name="filename"/>.</summary>
    public static async Task VirtualAsync(Machine.Machine machine, long address, long size, string filename, CancellationToken cancellationToken)
    {
        CheckSize(size);
        await using var file = HostFile.Create(filename);
        var buffer = new byte[(int)Math.Min(size, Batch)];
        var next = (ulong)address;
        for (var left = size; left > 0;)
        {
            var n = (int)Math.Min(left, buffer.Length);
            var read = await machine.ReadVirtualAsync(next, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            if (read < n)
            {
                // Batches are whole steps from the start address, so the steps before the bad one are read's whole steps.
                await WriteAsync(file, buffer.AsMemory(0, read / Step * Step), cancellationToken).ConfigureAwait(false);
                throw QmpErrorException.Generic($"Invalid addr 0x{address:x16}/size {size} specified");
            }
            await WriteAsync(file, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            next = unchecked(next + (ulong)n);
            left -= n;
        }
    }

    // QEMU 7.2 takes a negative size as a huge one and crashes; qmpd refuses it.
    private static void CheckSize(long size)
    {
        if (size < 0)
            throw QmpErrorException.Generic("Parameter 'size' expects a non-negative size");
    }

    private static async Task WriteAsync(FileStream file, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            throw QmpErrorException.Generic("An IO error has occurred");
        }
    }
}
