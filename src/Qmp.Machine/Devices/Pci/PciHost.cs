using Qmp.Machine.Devices.Pc;
using Qmp.Memory;
using static Qmp.Machine.Devices.Pci.PciConfigRegisters;

namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// The i440FX PCI host (QEMU's <c>i440FX-pcihost</c>) and its bus <c>pci.0</c>: configuration
/// mechanism #1 at ports 0xCF8 (CONFIG_ADDRESS: enable bit 31, bus 23:16, devfn 15:8, register 7:0)
/// and 0xCFC-0xCFF (CONFIG_DATA, 1/2/4-byte accesses at the byte lane of the port), with the
/// i440FX host bridge at 00:00.0 and the PIIX3 ISA bridge at 00:01.0 built in. Only bus 0 exists;
/// absent functions and other buses read as all ones.
/// </summary>
/// <remarks>
/// INTx pin p (0 = INTA) of slot s drives PIRQ (p + s - 1) mod 4, which PIIX3 registers 0x60-0x63 route
/// to an ISA IRQ (QEMU's pci_slot_get_pirq and piix3_set_irq). The routing resets to disabled;
/// firmware programs it, and <see cref="ApplyFirmwareIrqRouting"/> does what SeaBIOS does for a board
/// that boots without firmware. Used on the machine thread.
/// </remarks>
public sealed class PciHost : Device
{
    private const ushort ConfigAddressPort = 0xCF8;
    private const ushort ConfigDataPort = 0xCFC;
    private const ushort ElcrPort = 0x4D0;
    private const uint ConfigEnable = 0x80000000;
    private const int SlotCount = 32;
    private const int FunctionCount = 8;
    private const int IsaIrqCount = 16;

    // SeaBIOS's pci_irqs for PIIX: PIRQA/B on IRQ 10, PIRQC/D on IRQ 11.
    private static readonly byte[] _firmwareIrqs = [10, 10, 11, 11];

    private readonly PciDevice?[] _devices = new PciDevice?[SlotCount * FunctionCount];
    private readonly int[] _irqCount = new int[Piix3IsaBridge.PirqCount];
    private readonly I440fxHostBridge _hostBridge;
    private readonly Piix3IsaBridge _isaBridge;
    private DeviceContext? _context;
    private uint _configAddress;

    /// <summary>Creates the host with its host bridge and ISA bridge, not yet realized.</summary>
    public PciHost()
    {
        _hostBridge = new I440fxHostBridge { Bus = this, Slot = 0 };
        _isaBridge = new Piix3IsaBridge { Bus = this, Slot = 1, Multifunction = true };
    }

    /// <inheritdoc/>
    public override string TypeName => "i440FX-pcihost";

    /// <summary>The bus name devices give as <c>bus=</c>.</summary>
    public string BusName => "pci.0";

    /// <summary>The functions on the bus in devfn order, the host and ISA bridges included.</summary>
    public IReadOnlyList<PciDevice> Devices => [.. _devices.OfType<PciDevice>()];

    /// <summary>The function at <paramref name="slot"/>.<paramref name="function"/>, or null.</summary>
    public PciDevice? Find(int slot, int function) =>
        slot is >= 0 and < SlotCount && function is >= 0 and < FunctionCount ? _devices[(slot * FunctionCount) + function] : null;

    /// <summary>
    /// Plugs and realizes <paramref name="device"/> at its <see cref="PciDevice.Slot"/> and
    /// <see cref="PciDevice.Function"/>, or in the first free slot when the slot is null.
    /// </summary>
    /// <exception cref="DeviceRealizeException">The slot is taken or the device fails to realize; nothing changed.</exception>
    public void Plug(PciDevice device)
    {
        var context = _context ?? throw new InvalidOperationException($"{TypeName} is not realized");
        device.Bus = this;
        device.Realize(context);
    }

    /// <summary>Plugs and realizes <paramref name="device"/> at <paramref name="slot"/>.<paramref name="function"/>.</summary>
    /// <exception cref="DeviceRealizeException">The slot is taken or the device fails to realize; nothing changed.</exception>
    public void Plug(PciDevice device, int slot, int function = 0)
    {
        device.Slot = slot;
        device.Function = function;
        Plug(device);
    }

    /// <summary>Unrealizes <paramref name="device"/>: its BARs unmap, its INTx drops and its slot frees.</summary>
    public void Unplug(PciDevice device)
    {
        if (!ReferenceEquals(device.Bus, this) || device.Address is null)
            throw new ArgumentException($"{device.TypeName} is not plugged into {BusName}", nameof(device));
        if (ReferenceEquals(device, _hostBridge) || ReferenceEquals(device, _isaBridge))
            throw new InvalidOperationException($"Device '{device.TypeName}' does not support hotplugging");
        device.Unrealize();
    }

    /// <summary>The data of QMP <c>query-pci</c> for this host's bus (QEMU returns one such entry per host bridge).</summary>
    public PciInfo QueryPci() => new(0, [.. _devices.OfType<PciDevice>().Select(d => d.Describe(0))]);

    /// <summary>PCI bus reset: every function in devfn order (the routing returns to disabled).</summary>
    public void Reset()
    {
        foreach (var device in _devices.OfType<PciDevice>().ToArray())
            device.Reset();
    }

    /// <summary>The ISA IRQ PIRQ <paramref name="pirq"/> (0..3 for A..D) is routed to, or null while disabled.</summary>
    public int? GetPirqRoute(int pirq)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pirq);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pirq, Piix3IsaBridge.PirqCount);
        var route = _isaBridge.Route(pirq);
        return route < IsaIrqCount ? route : null;
    }

    /// <summary>Routes PIRQ <paramref name="pirq"/> to ISA IRQ <paramref name="isaIrq"/> (0..15), or disables it (null), as a PIIX3 register write.</summary>
    public void SetPirqRoute(int pirq, int? isaIrq)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pirq);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pirq, Piix3IsaBridge.PirqCount);
        if (isaIrq is < 0 or >= IsaIrqCount)
            throw new ArgumentOutOfRangeException(nameof(isaIrq), isaIrq, "an ISA IRQ is 0..15");
        if (!_isaBridge.Realized)
            throw new InvalidOperationException($"{TypeName} is not realized");
        _isaBridge.SetRoute(pirq, isaIrq is { } irq ? (byte)irq : (byte)0x80);
    }

    /// <summary>
    /// What SeaBIOS does on QEMU's pc machine: PIRQA/B to IRQ 10 and PIRQC/D to IRQ 11, those IRQs
    /// level-triggered in the ELCR (ports 0x4D0/0x4D1), and each function's interrupt line register set
    /// to the IRQ its pin reaches. For boards that start the guest without firmware.
    /// </summary>
    public void ApplyFirmwareIrqRouting()
    {
        var context = _context ?? throw new InvalidOperationException($"{TypeName} is not realized");
        var elcr = 0;
        for (var pirq = 0; pirq < Piix3IsaBridge.PirqCount; pirq++)
        {
            SetPirqRoute(pirq, _firmwareIrqs[pirq]);
            elcr |= 1 << _firmwareIrqs[pirq];
        }
        context.Io.Write(ElcrPort, 1, (uint)(elcr & 0xFF));
        context.Io.Write(ElcrPort + 1, 1, (uint)(elcr >> 8));
        foreach (var device in _devices.OfType<PciDevice>())
        {
            var pin = (int)device.HostConfigRead(InterruptPinRegister, 1);
            if (pin != 0)
                device.HostConfigWrite(InterruptLineRegister, 1, _firmwareIrqs[Pirq(device, pin - 1)]);
        }
    }

    /// <summary>Claims the devfn for <paramref name="device"/> with QEMU's checks and messages; returns it.</summary>
    internal int Attach(PciDevice device, int? slot, int function, bool multifunction)
    {
        if (_context is null)
            throw new DeviceRealizeException($"PCI bus '{BusName}' is not realized");
        var name = device.TypeName;
        int devfn;
        if (slot is not { } requested)
        {
            devfn = -1;
            for (var candidate = 0; candidate < _devices.Length; candidate += FunctionCount)
            {
                if (_devices[candidate] is null)
                {
                    devfn = candidate;
                    break;
                }
            }
            if (devfn < 0)
                throw new DeviceRealizeException($"PCI: no slot/function available for {name}, all in use or reserved");
        }
        else
        {
            if (requested is < 0 or >= SlotCount || function is < 0 or >= FunctionCount)
                throw new DeviceRealizeException($"Property '{name}.addr' doesn't take value '{requested:x}.{function:x}'");
            devfn = (requested * FunctionCount) + function;
            if (_devices[devfn] is { } other)
                throw new DeviceRealizeException($"PCI: slot {requested} function {function} not available for {name}, in use by {other.TypeName},id={other.Id ?? "(null)"}");
        }
        CheckMultifunction(devfn, multifunction);
        _devices[devfn] = device;
        return devfn;
    }

    internal void Detach(PciDevice device)
    {
        var index = Array.IndexOf(_devices, device);
        if (index >= 0)
            _devices[index] = null;
    }

    /// <summary>A device's INTx pin <paramref name="intx"/> changed by <paramref name="change"/> (QEMU's irq_count).</summary>
    internal void ChangeIrqLevel(PciDevice device, int intx, int change)
    {
        var pirq = Pirq(device, intx);
        _irqCount[pirq] += change;
        _isaBridge.SetPirqLevel(pirq, _irqCount[pirq] != 0);
    }

    internal bool PirqLevel(int pirq) => _irqCount[pirq] != 0;

    internal void RetryPendingBars()
    {
        foreach (var device in _devices)
            device?.RetryPendingBars();
    }

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        _context = scope.Context;
        scope.OnUndo(() => _context = null);
        scope.MapPorts(ConfigAddressPort, MemoryRegion.Io("pci-conf-idx", 4, new DelegateIoHandler(ReadAddress, WriteAddress)));
        scope.MapPorts(ConfigDataPort, MemoryRegion.Io("pci-conf-data", 4, new DelegateIoHandler(ReadData, WriteData)));
        _hostBridge.Realize(scope.Context);
        scope.OnUndo(_hostBridge.Unrealize);
        _isaBridge.Realize(scope.Context);
        scope.OnUndo(_isaBridge.Unrealize);
    }

    // QEMU's pci_slot_get_pirq for the i440FX.
    private static int Pirq(PciDevice device, int intx) => (intx + device.Address!.Value.Slot - 1) & 3;

    // QEMU's pci_init_multifunction.
    private void CheckMultifunction(int devfn, bool multifunction)
    {
        var slot = devfn / FunctionCount;
        var function = devfn % FunctionCount;
        var slotBase = slot * FunctionCount;
        if (function != 0)
        {
            if (_devices[slotBase] is { Multifunction: false })
                throw new DeviceRealizeException($"PCI: single function device can't be populated in function {slot:x}.{function:x}");
            return;
        }
        if (multifunction)
            return;
        for (var other = 1; other < FunctionCount; other++)
        {
            if (_devices[slotBase + other] is not null)
                throw new DeviceRealizeException($"PCI: {slot:x}.0 indicates single function, but {slot:x}.{other:x} is already populated.");
        }
    }

    // Port 0xCF9 (offset 1, byte access) is PIIX3's reset control register, as QEMU overlays it there;
    // the rest of the region is CONFIG_ADDRESS, which QEMU returns whole and changes only on dword writes.
    private ulong ReadAddress(ulong offset, int size) => offset == 1 && size == 1 ? _isaBridge.Rcr : _configAddress;

    private void WriteAddress(ulong offset, int size, ulong value)
    {
        if (offset == 1 && size == 1)
            _isaBridge.WriteRcr((byte)value);
        else if (offset == 0 && size == 4)
            _configAddress = (uint)value;
    }

    private ulong ReadData(ulong offset, int size)
    {
        if ((_configAddress & ConfigEnable) == 0)
            return uint.MaxValue;
        var address = _configAddress | (uint)(offset & 3);
        if (!FindTarget(address, out var device, out var register))
            return uint.MaxValue;
        return device!.HostConfigRead(register, Math.Min(size, SpaceSize - register));
    }

    private void WriteData(ulong offset, int size, ulong value)
    {
        if ((_configAddress & ConfigEnable) == 0)
            return;
        var address = _configAddress | (uint)(offset & 3);
        if (FindTarget(address, out var device, out var register))
            device!.HostConfigWrite(register, Math.Min(size, SpaceSize - register), (uint)value);
    }

    private bool FindTarget(uint address, out PciDevice? device, out int register)
    {
        var bus = (address >> 16) & 0xFF;
        device = bus == 0 ? _devices[(address >> 8) & 0xFF] : null;
        register = (int)(address & 0xFF);
        return device is not null;
    }
}
