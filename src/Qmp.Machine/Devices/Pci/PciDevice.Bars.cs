using System.Buffers.Binary;
using System.Numerics;
using Qmp.Memory;
using static Qmp.Machine.Devices.Pci.PciConfigRegisters;

namespace Qmp.Machine.Devices.Pci;

// Base address registers: registration, decoding, and the mappings that follow the command register, the
// programmed addresses and (behind a bridge) the bridge's forwarding.
public abstract partial class PciDevice
{
    internal void RetryPendingBars()
    {
        foreach (var bar in _bars)
        {
            if (bar is { Pending: true })
                TryInstall(bar);
        }
    }

    /// <summary>BARs the bus no longer forwards leave the address spaces and wait (a bridge window or the slot power changed).</summary>
    internal void UnmapUnforwardedBars()
    {
        foreach (var bar in _bars)
        {
            if (bar is { Installed: true } && !Forwarded(bar))
            {
                Uninstall(bar);
                bar.Pending = true;
            }
        }
    }

    /// <summary>
    /// Registers BAR <paramref name="index"/> (while realizing): its size is the region's, a power of two of
    /// at least 4 bytes for I/O and 16 for memory; a 64-bit BAR also takes register <paramref name="index"/> + 1.
    /// </summary>
    protected void RegisterBar(int index, MemoryRegion region, PciBarType type)
    {
        if (_context is null)
            throw new InvalidOperationException($"{TypeName}: BARs are registered while the device realizes");
        // A type-1 header has two BARs; its other registers are the bridge's.
        if (index < 0 || index >= (HeaderLayout == 0 ? BarCount : 2))
            throw new DeviceRealizeException($"{TypeName}: BAR {index} does not exist");
        if (type is not (PciBarType.Io or PciBarType.Memory or PciBarType.Memory64 or PciBarType.Prefetchable or (PciBarType.Memory64 | PciBarType.Prefetchable)))
            throw new DeviceRealizeException($"{TypeName}: BAR {index} has an invalid type {type}");
        var bar = new PciBar(index, region, type);
        if (_bars[index] is not null || (index > 0 && _bars[index - 1] is { Is64: true }) || (bar.Is64 && (index == BarCount - 1 || _bars[index + 1] is not null)))
            throw new DeviceRealizeException($"{TypeName}: BAR {index} is already registered");
        var size = region.Size;
        if (!BitOperations.IsPow2(size) || size < (bar.IsIo ? 4UL : 16UL) || (bar.IsIo && size > PortIoSpace.Size) || (!bar.IsIo && !bar.Is64 && size > 0x80000000))
            throw new DeviceRealizeException($"{TypeName}: BAR {index} cannot have size {size:#x}");
        if (bar.IsIo && region.Kind != MemoryRegionKind.Io)
            throw new DeviceRealizeException($"{TypeName}: I/O BAR {index} needs an I/O region");
        var wmask = ~(size - 1);
        var at = bar.ConfigOffset;
        if (bar.Is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_config.AsSpan(at), (ulong)type);
            BinaryPrimitives.WriteUInt64LittleEndian(_wmask.AsSpan(at), wmask);
            BinaryPrimitives.WriteUInt64LittleEndian(_cmask.AsSpan(at), ulong.MaxValue);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(at), (uint)type);
            BinaryPrimitives.WriteUInt32LittleEndian(_wmask.AsSpan(at), (uint)wmask);
            BinaryPrimitives.WriteUInt32LittleEndian(_cmask.AsSpan(at), uint.MaxValue);
        }
        _bars[index] = bar;
        _bus?.Host.Inject(this, PciRealizeStep.Bar);
    }

    // QEMU's pci_bar_address: where a BAR decodes, or PCI_BAR_UNMAPPED.
    private ulong DecodeAddress(PciBar bar)
    {
        var command = ReadWord(_config, Command);
        var mask = ~(bar.Size - 1);
        if (bar.IsIo)
        {
            if ((command & CommandIo) == 0)
                return PciBar.Unmapped;
            var io = BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(bar.ConfigOffset)) & mask;
            var ioLast = io + bar.Size - 1;
            return ioLast <= io || ioLast >= uint.MaxValue || io == 0 ? PciBar.Unmapped : io;
        }
        if ((command & CommandMemory) == 0)
            return PciBar.Unmapped;
        var address = bar.Is64
            ? BinaryPrimitives.ReadUInt64LittleEndian(_config.AsSpan(bar.ConfigOffset))
            : BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(bar.ConfigOffset));
        address &= mask;
        var last = address + bar.Size - 1;
        if (last <= address || last == PciBar.Unmapped || address == 0)
            return PciBar.Unmapped;
        // A 32-bit BAR ending at 4 GiB is refused too, as QEMU does.
        return !bar.Is64 && last >= uint.MaxValue ? PciBar.Unmapped : address;
    }

    private void UpdateMappings()
    {
        var freed = false;
        foreach (var bar in _bars)
        {
            if (bar is null)
                continue;
            var address = DecodeAddress(bar);
            if (address == bar.Address)
                continue;
            freed |= Uninstall(bar);
            bar.Address = address;
            if (address != PciBar.Unmapped && !TryInstall(bar))
                bar.Pending = true;
        }
        if (freed)
            _bus?.Host.RetryPendingBars();
    }

    // Behind a bridge a BAR reaches the CPU only while every bridge above forwards its whole range.
    private bool Forwarded(PciBar bar) => _bus?.Forwards(bar.Address, bar.Size, bar.IsIo) ?? false;

    private bool TryInstall(PciBar bar)
    {
        var context = _context!;
        if (!Forwarded(bar))
            return false;
        try
        {
            if (bar.IsIo)
            {
                // Beyond the 64 KiB port space the BAR decodes but no port reaches it.
                if (bar.Address + bar.Size > PortIoSpace.Size)
                    return true;
                context.Io.Map((ushort)bar.Address, bar.Region);
            }
            else
                context.Memory.Map(bar.Address, bar.Region, BarPriority);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // Taken by another region: QEMU would overlay it; this model waits until the range frees.
            return false;
        }
        bar.Installed = true;
        bar.Pending = false;
        return true;
    }

    private bool Uninstall(PciBar bar)
    {
        bar.Pending = false;
        if (!bar.Installed)
            return false;
        if (bar.IsIo)
            _context!.Io.Unmap(bar.Region);
        else
            _context!.Memory.Unmap(bar.Region);
        bar.Installed = false;
        return true;
    }

    private void UnmapBars()
    {
        var freed = false;
        foreach (var bar in _bars)
        {
            if (bar is null)
                continue;
            freed |= Uninstall(bar);
            bar.Address = PciBar.Unmapped;
        }
        if (freed)
            _bus?.Host.RetryPendingBars();
    }
}
