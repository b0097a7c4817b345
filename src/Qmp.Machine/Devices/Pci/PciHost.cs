using Qmp.Machine.Devices.Pc;
using Qmp.Memory;
using static Qmp.Machine.Devices.Pci.PciConfigRegisters;

namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// The i440FX PCI host (QEMU's <c>i440FX-pcihost</c>) and its bus <c>pci.0</c>: configuration
/// mechanism #1 at ports 0xCF8 (CONFIG_ADDRESS: enable bit 31, bus 23:16, devfn 15:8, register 7:0)
/// and 0xCFC-0xCFF (CONFIG_DATA, 1/2/4-byte accesses at the byte lane of the port), with the
/// i440FX host bridge at 00:00.0 and the PIIX3 ISA bridge at 00:01.0 built in. Cycles for bus 0 reach
/// <see cref="Bus"/>; cycles for other bus numbers go to the bridge whose secondary..subordinate range
/// holds them (type-1 forwarding, as a real chipset does); absent functions read as all ones.
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
    private const int IsaIrqCount = 16;

    // SeaBIOS's pci_irqs for PIIX: PIRQA/B on IRQ 10, PIRQC/D on IRQ 11.
    private static readonly byte[] _firmwareIrqs = [10, 10, 11, 11];

    private readonly int[] _irqCount = new int[Piix3IsaBridge.PirqCount];
    private readonly PciRootBus _bus;
    private readonly I440fxHostBridge _hostBridge;
    private readonly Piix3IsaBridge _isaBridge;
    private DeviceContext? _context;
    private uint _configAddress;

    /// <summary>Creates the host with its host bridge and ISA bridge, not yet realized.</summary>
    public PciHost()
    {
        _bus = new PciRootBus(this);
        _hostBridge = new I440fxHostBridge { Bus = _bus, Slot = 0 };
        _isaBridge = new Piix3IsaBridge { Bus = _bus, Slot = 1, Multifunction = true };
    }

    /// <inheritdoc/>
    public override string TypeName => "i440FX-pcihost";

    /// <summary>The root bus <c>pci.0</c>.</summary>
    public PciBus Bus => _bus;

    /// <summary>The bus name devices give as <c>bus=</c>.</summary>
    public string BusName => _bus.Name;

    /// <summary>The functions on the root bus in devfn order, the host and ISA bridges included.</summary>
    public IReadOnlyList<PciDevice> Devices => _bus.Devices;

    /// <summary>Every bus: <c>pci.0</c>, then the secondary buses of bridges, depth first.</summary>
    public IEnumerable<PciBus> Buses => _bus.Subtree();

    internal DeviceContext? RealizedContext => _context;

    /// <summary>
    /// A test seam: called at each step of a PCI function's realize and of a hotplug slot's plug, so tests
    /// can fail any step and check that nothing of the attempt remains. Null in production.
    /// </summary>
    internal Action<PciDevice, PciRealizeStep>? FaultInjection { get; set; }

    /// <summary>A hotplug slot removed a function (the guest powered the slot off, or a pending unplug completed at reset); it is unrealized already.</summary>
    internal event Action<PciDevice>? Unplugged;

    /// <summary>The guest refused the unplug request of a function (see <see cref="PcieRootPort"/>).</summary>
    internal event Action<PciDevice>? UnplugRefused;

    /// <summary>The function at <paramref name="slot"/>.<paramref name="function"/> of <c>pci.0</c>, or null.</summary>
    public PciDevice? Find(int slot, int function) => _bus.Find(slot, function);

    /// <summary>The bus called <paramref name="name"/> (<c>pci.0</c> or a bridge id), or null.</summary>
    public PciBus? FindBus(string name) => Buses.FirstOrDefault(b => b.Name == name);

    /// <summary>
    /// Plugs and realizes <paramref name="device"/> at its <see cref="PciDevice.Slot"/> and
    /// <see cref="PciDevice.Function"/>, or in the first free slot when the slot is null.
    /// </summary>
    /// <exception cref="DeviceRealizeException">The slot is taken or the device fails to realize; nothing changed.</exception>
    public void Plug(PciDevice device)
    {
        var context = _context ?? throw new InvalidOperationException($"{TypeName} is not realized");
        device.Bus = _bus;
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
        if (!ReferenceEquals(device.Bus, _bus) || device.Address is null)
            throw new ArgumentException($"{device.TypeName} is not plugged into {BusName}", nameof(device));
        if (ReferenceEquals(device, _hostBridge) || ReferenceEquals(device, _isaBridge))
            throw new InvalidOperationException($"Device '{device.TypeName}' does not support hotplugging");
        device.Unrealize();
    }

    /// <summary>
    /// The data of QMP <c>query-pci</c> for this host's bus (QEMU returns one such entry per host bridge);
    /// bridges carry their secondary bus and, once the guest numbered it, the functions behind them.
    /// </summary>
    public PciInfo QueryPci() => new(0, [.. _bus.Devices.Select(d => d.Describe())]);

    /// <summary>PCI bus reset: every function in devfn order (the routing returns to disabled); bridges reset what is behind them.</summary>
    public void Reset()
    {
        foreach (var device in _bus.Devices)
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
    /// What SeaBIOS does on QEMU's pc machine: numbers the buses behind bridges depth first (secondary and
    /// subordinate bus numbers, as pci_bios_init_bus), routes PIRQA/B to IRQ 10 and PIRQC/D to IRQ 11, makes
    /// those IRQs level-triggered in the ELCR (ports 0x4D0/0x4D1), and sets each function's interrupt line
    /// register to the IRQ its pin reaches, through the bridges' swizzle. For boards that start the guest
    /// without firmware. BARs and bridge windows stay for the guest to assign.
    /// </summary>
    public void ApplyFirmwareIrqRouting()
    {
        var context = _context ?? throw new InvalidOperationException($"{TypeName} is not realized");
        var lastBus = 0;
        NumberBuses(_bus, ref lastBus);
        var elcr = 0;
        for (var pirq = 0; pirq < Piix3IsaBridge.PirqCount; pirq++)
        {
            SetPirqRoute(pirq, _firmwareIrqs[pirq]);
            elcr |= 1 << _firmwareIrqs[pirq];
        }
        context.Io.Write(ElcrPort, 1, (uint)(elcr & 0xFF));
        context.Io.Write(ElcrPort + 1, 1, (uint)(elcr >> 8));
        foreach (var bus in Buses)
        {
            foreach (var device in bus.Devices)
            {
                var pin = (int)device.HostConfigRead(InterruptPinRegister, 1);
                if (pin != 0)
                    device.HostConfigWrite(InterruptLineRegister, 1, _firmwareIrqs[RootPirq(device, pin - 1)]);
            }
        }
    }

    /// <summary>A root-bus function's INTx pin <paramref name="intx"/> changed by <paramref name="change"/> (QEMU's irq_count).</summary>
    internal void ChangeIrqLevel(PciDevice device, int intx, int change)
    {
        var pirq = Pirq(device, intx);
        _irqCount[pirq] += change;
        _isaBridge.SetPirqLevel(pirq, _irqCount[pirq] != 0);
    }

    internal bool PirqLevel(int pirq) => _irqCount[pirq] != 0;

    /// <summary>BARs waiting for their range (taken, or not forwarded by a bridge) try again, on every bus.</summary>
    internal void RetryPendingBars()
    {
        foreach (var bus in Buses)
        {
            foreach (var device in bus.Devices)
                device.RetryPendingBars();
        }
    }

    /// <summary>
    /// A bridge changed what it forwards (command, windows, bus numbers, slot power): BARs that are no longer
    /// reachable leave the address spaces, then every waiting BAR tries again.
    /// </summary>
    internal void RefreshForwarding()
    {
        foreach (var bus in Buses)
        {
            foreach (var device in bus.Devices)
                device.UnmapUnforwardedBars();
        }
        RetryPendingBars();
    }

    internal void RaiseUnplugged(PciDevice device) => Unplugged?.Invoke(device);

    internal void RaiseUnplugRefused(PciDevice device) => UnplugRefused?.Invoke(device);

    /// <summary>Runs the fault-injection seam for <paramref name="step"/> of <paramref name="device"/>.</summary>
    internal void Inject(PciDevice device, PciRealizeStep step) => FaultInjection?.Invoke(device, step);

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

    // The PIRQ a pin reaches through the bridges above the function (pci_swizzle_map_irq_fn at each level).
    private static int RootPirq(PciDevice device, int intx)
    {
        while (device.Bus is PciBridgeBus secondary)
        {
            intx = PciBridgeBus.Swizzle(device, intx);
            device = secondary.Bridge;
        }
        return Pirq(device, intx);
    }

    // SeaBIOS's pci_bios_init_bus: depth first, each bridge's secondary bus is the next number and its
    // subordinate bus the last number used below it.
    private static void NumberBuses(PciBus bus, ref int lastBus)
    {
        foreach (var bridge in bus.Bridges)
        {
            lastBus++;
            bridge.HostConfigWrite(PciBridgeRegisters.PrimaryBusRegister, 1, (uint)bus.Number);
            bridge.HostConfigWrite(PciBridgeRegisters.SecondaryBusRegister, 1, (uint)lastBus);
            bridge.HostConfigWrite(PciBridgeRegisters.SubordinateBusRegister, 1, 0xFF);
            NumberBuses(bridge.SecondaryBus, ref lastBus);
            bridge.HostConfigWrite(PciBridgeRegisters.SubordinateBusRegister, 1, (uint)lastBus);
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

    // Mechanism #1 encodes the bus number: bus 0 is pci.0 itself, any other bus is a type-1 cycle that the
    // bridges forward (QEMU's pci_find_device over pci_find_bus_nr).
    private bool FindTarget(uint address, out PciDevice? device, out int register)
    {
        var bus = (int)((address >> 16) & 0xFF);
        var devfn = (int)((address >> 8) & 0xFF);
        device = bus == 0 ? _bus.ConfigTarget(devfn) : _bus.RouteConfig(bus, devfn);
        register = (int)(address & 0xFF);
        return device is not null;
    }
}
