using Qmp.Machine.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Pci;

/// <summary>
/// A PCI test board with a pcie-root-port (id rp1, chassis 1) at 00:02.0, reached through 0xCF8/0xCFC as a
/// guest would, and a record of what its slot reported to the board.
/// </summary>
internal sealed class PcieTestRig : IDisposable
{
    public const int PortSlot = 2;

    // Express capability registers.
    public const int LinkCapabilities = 0x0C, LinkStatus = 0x12, SlotCapabilities = 0x14, SlotControl = 0x18, SlotStatus = 0x1A;

    // Slot control.
    public const ushort Abpe = 0x0001, Pdce = 0x0008, Ccie = 0x0010, Hpie = 0x0020, Dllsce = 0x1000, Eic = 0x0800;
    public const ushort AttnOn = 0x0040, AttnBlink = 0x0080, AttnOff = 0x00C0;
    public const ushort PwrOn = 0x0100, PwrBlink = 0x0200, PwrOff = 0x0300, PowerOff = 0x0400;

    // Slot status.
    public const ushort Abp = 0x0001, Pdc = 0x0008, Cc = 0x0010, Pds = 0x0040, Eis = 0x0080, Dllsc = 0x0100;
    public const ushort Dllla = 0x2000;

    public PcieTestRig(Action<PcieRootPort>? configure = null)
    {
        Pci = new PciTestBoard();
        Port = new PcieRootPort { Id = "rp1", Chassis = 1, ClockOverride = Clock };
        configure?.Invoke(Port);
        Pci.Host.Plug(Port, PortSlot);
        Pci.Host.Unplugged += Unplugged.Add;
        Pci.Host.UnplugRefused += Refused.Add;
    }

    public PciTestBoard Pci { get; }

    public PcieRootPort Port { get; }

    public ManualClock Clock { get; } = new();

    public IPciHotplugHandler Slot => Port;

    public List<PciDevice> Unplugged { get; } = [];

    public List<PciDevice> Refused { get; } = [];

    public int Exp => Port.ExpressCapabilityOffset;

    /// <summary>The PIRQ the port's INTA reaches (slot 2, pin A: PIRQB).</summary>
    public bool InterruptLevel => Pci.Host.PirqLevel((0 + PortSlot - 1) & 3);

    public uint Read(int bus, int slot, int function, int register, int size) => Pci.ConfigRead(slot, function, register, size, bus);

    public void Write(int bus, int slot, int function, int register, int size, uint value)
    {
        Pci.Io.Write(0xCF8, 4, PciTestBoard.ConfigAddress(bus, slot, function, register));
        Pci.Io.Write((ushort)(0xCFC + (register & 3)), size, value);
    }

    public uint PortRead(int register, int size) => Read(0, PortSlot, 0, register, size);

    public void PortWrite(int register, int size, uint value) => Write(0, PortSlot, 0, register, size, value);

    public ushort ExpRead(int register) => (ushort)PortRead(Exp + register, 2);

    public uint ExpRead32(int register) => PortRead(Exp + register, 4);

    public void ExpWrite(int register, ushort value) => PortWrite(Exp + register, 2, value);

    public ushort Control
    {
        get => ExpRead(SlotControl);
        set => ExpWrite(SlotControl, value);
    }

    public ushort Status => ExpRead(SlotStatus);

    /// <summary>Gives the secondary bus number 1 (subordinate 1), as firmware or the guest does.</summary>
    public void NumberBus(int secondary = 1)
    {
        PortWrite(0x18, 1, 0);
        PortWrite(0x19, 1, (uint)secondary);
        PortWrite(0x1A, 1, (uint)secondary);
    }

    /// <summary>Clears the slot events the guest has seen (RW1C).</summary>
    public void ClearEvents(ushort events) => ExpWrite(SlotStatus, events);

    /// <summary>What device_add does on the board: pre-plug, realize behind the port, plug.</summary>
    public T HotPlug<T>(T device, bool hotplugged = true)
        where T : PciDevice
    {
        device.Hotplugged = hotplugged;
        device.Bus = Port.SecondaryBus;
        Slot.PrePlug(device);
        device.Realize(Pci.Board.Context);
        Slot.Plug(device);
        return device;
    }

    public void Dispose()
    {
        foreach (var device in Port.SecondaryBus.Devices)
            device.Unrealize();
        Pci.Dispose();
    }
}
