namespace Qmp.Machine.Tests.Hotplug;

/// <summary>
/// A guest's hotplug driver reduced to its register accesses (what Linux pciehp does), run on the machine
/// thread through configuration mechanism #1: it numbers the ports' buses, enables the slot interrupts,
/// powers a slot on when a device arrives, and on the attention button blinks, powers off and turns the
/// indicator off, or refuses by turning the indicator back on.
/// </summary>
internal sealed class HotplugTestGuest(HotplugMachine rig)
{
    public const ushort Enables = 0x0001 | 0x0008 | 0x0010 | 0x0020 | 0x1000;
    public const ushort AttnOff = 0x00C0, PwrOn = 0x0100, PwrBlink = 0x0200, PwrOff = 0x0300, PowerOff = 0x0400, Eic = 0x0800;
    public const ushort Abp = 0x0001, Pdc = 0x0008, Cc = 0x0010, Pds = 0x0040, Eis = 0x0080, Dllsc = 0x0100;

    /// <summary>rp1 and rp2 sit at 00:02.0 and 00:03.0; the guest gives their buses the numbers 1 and 2.</summary>
    public static int BusOf(int portSlot) => portSlot - 1;

    public Task<uint> ReadAsync(int bus, int slot, int function, int register, int size) => rig.OnMachine(() => Read(bus, slot, function, register, size));

    public Task WriteAsync(int bus, int slot, int function, int register, int size, uint value) => rig.OnMachine(() => Write(bus, slot, function, register, size, value));

    /// <summary>What firmware does for bridges: bus numbers; then what the OS driver does at start: enables, events cleared.</summary>
    public Task InitAsync() => rig.OnMachine(() =>
    {
        foreach (var port in new[] { 2, 3 })
        {
            Write(0, port, 0, 0x19, 1, (uint)BusOf(port));
            Write(0, port, 0, 0x1A, 1, (uint)BusOf(port));
            var control = (ushort)Read(0, port, 0, Exp(port) + 0x18, 2);
            Write(0, port, 0, Exp(port) + 0x18, 2, (ushort)(control | Enables));
            Write(0, port, 0, Exp(port) + 0x1A, 2, Read(0, port, 0, Exp(port) + 0x1A, 2) & 0x011F);
        }
    });

    public Task<ushort> SlotStatusAsync(int port) => rig.OnMachine(() => (ushort)Read(0, port, 0, Exp(port) + 0x1A, 2));

    public Task<ushort> SlotControlAsync(int port) => rig.OnMachine(() => (ushort)Read(0, port, 0, Exp(port) + 0x18, 2));

    public Task<bool> LinkActiveAsync(int port) => rig.OnMachine(() => (Read(0, port, 0, Exp(port) + 0x12, 2) & 0x2000) != 0);

    public Task WriteSlotControlAsync(int port, ushort value) => rig.OnMachine(() => Write(0, port, 0, Exp(port) + 0x18, 2, value));

    /// <summary>Clears the events the guest saw (RW1C, exactly the bits read).</summary>
    public Task<ushort> AcknowledgeAsync(int port) => rig.OnMachine(() =>
    {
        var status = (ushort)Read(0, port, 0, Exp(port) + 0x1A, 2);
        Write(0, port, 0, Exp(port) + 0x1A, 2, status & 0x011Fu);
        return status;
    });

    /// <summary>A device arrived: power the slot on, indicator on.</summary>
    public Task PowerOnAsync(int port) => WriteSlotControlAsync(port, PwrOn | AttnOff | Enables);

    /// <summary>The attention button: blink, cut power, indicator off (Linux pciehp's sequence).</summary>
    public async Task EjectAsync(int port)
    {
        await WriteSlotControlAsync(port, PwrBlink | AttnOff | Enables);
        await WriteSlotControlAsync(port, PowerOff | PwrBlink | AttnOff | Enables);
        await WriteSlotControlAsync(port, PowerOff | PwrOff | AttnOff | Enables);
    }

    /// <summary>The guest will not let go: blink, then back to on ("button cancel").</summary>
    public async Task RefuseAsync(int port)
    {
        await WriteSlotControlAsync(port, PwrBlink | AttnOff | Enables);
        await WriteSlotControlAsync(port, PwrOn | AttnOff | Enables);
    }

    /// <summary>The vendor and device id of the function behind <paramref name="port"/> (all ones when nothing answers).</summary>
    public Task<uint> IdBehindAsync(int port) => ReadAsync(BusOf(port), 0, 0, 0, 4);

    // The Express capability, found the way a driver finds it: through the capability list.
    private int Exp(int port)
    {
        var at = (int)Read(0, port, 0, 0x34, 1);
        while (at != 0 && Read(0, port, 0, at, 1) != 0x10)
            at = (int)Read(0, port, 0, at + 1, 1);
        return at != 0 ? at : throw new InvalidOperationException($"no Express capability at 00:{port:x2}.0");
    }

    private uint Read(int bus, int slot, int function, int register, int size)
    {
        var io = rig.Board.Io;
        io.Write(0xCF8, 4, 0x80000000u | (uint)(bus << 16) | (uint)(slot << 11) | (uint)(function << 8) | (uint)(register & 0xFC));
        return io.Read((ushort)(0xCFC + (register & 3)), size);
    }

    private void Write(int bus, int slot, int function, int register, int size, uint value)
    {
        var io = rig.Board.Io;
        io.Write(0xCF8, 4, 0x80000000u | (uint)(bus << 16) | (uint)(slot << 11) | (uint)(function << 8) | (uint)(register & 0xFC));
        io.Write((ushort)(0xCFC + (register & 3)), size, value);
    }
}
