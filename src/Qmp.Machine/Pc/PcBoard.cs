using Qmp.Cpu.X86;
using Qmp.Machine.Chardevs;
using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Acpi;
using Qmp.Machine.Devices.Apic;
using Qmp.Machine.Devices.FwCfg;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Loader;
using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Pc;

/// <summary>
/// The pc board: RAM, one i686 CPU and the devices a small guest needs (PIC pair, local APIC and
/// IOAPIC, PIT and speaker port, CMOS RTC, keyboard controller for the reset line, ACPI PM power button, QEMU's
/// fw_cfg, 16550 UARTs per <c>-serial</c>, and <c>-device</c> isa-debug-exit / isa-debugcon). It boots a
/// <c>-kernel</c> image, a <c>-bios</c> ROM, or the built-in demo guest; with none of them the
/// CPU idles in HLT, like QEMU's firmware with no boot device. Building it realizes
/// every device; if one fails, those already realized are unrealized and nothing remains.
/// </summary>
public sealed partial class PcBoard : IMachineBoard, IHotplugBoard
{
    private const ulong Below4GLimit = 0xE0000000;
    private readonly MachineConfig _config;
    private readonly RamBlock _ram;
    private readonly RamBlock? _bios;
    private readonly List<Device> _devices = [];
    private readonly Pic8259Pair _pic = new();
    private readonly Pit8254 _pit = new();
    private readonly PcSpeaker _speaker = new();
    private readonly CmosRtc _rtc = new();
    private readonly I8042 _i8042 = new();
    private readonly AcpiPm _acpi = new();
    private readonly FwCfg _fwCfg = new();
    private readonly LocalApic _apic = new();
    private readonly IoApic _ioapic = new();
    private readonly PciHost _pci = new();
    private readonly List<Uart16550> _uarts = [];
    private readonly IrqLine[] _isaIrqs = new IrqLine[16];
    private readonly byte[]? _kernel;
    private readonly List<(string Name, byte[] Data)> _modules = [];
    private Dictionary<string, ICharBackend> _backendById = [];
    private DeviceContext? _context;

    /// <summary>Builds and realizes the board for <paramref name="config"/>.</summary>
    /// <exception cref="MachineOperationException">A file cannot be read, a device cannot be created or realized; the message says which.</exception>
    /// <param name="config">What to build.</param>
    /// <param name="control">The machine, as devices see it.</param>
    /// <param name="backends">The guest chardevs' host sides.</param>
    /// <param name="block">The block graph devices find their drives in.</param>
    public PcBoard(MachineConfig config, IMachineControl control, Func<CharBackendConfig, ICharBackend> backends, Qmp.Block.BlockGraph? block = null)
    {
        _config = config;
        Memory = new AddressSpace("memory");
        Io = new PortIoSpace();
        Timers = new TimerQueue(new VirtualClock());
        _ram = CreateRam(config);
        try
        {
            var below = (ulong)Math.Min((ulong)config.RamSize, Below4GLimit);
            Memory.Map(0, MemoryRegion.Ram("ram-below-4g", _ram, 0, below));
            if ((ulong)config.RamSize > below)
                Memory.Map(0x100000000, MemoryRegion.Ram("ram-above-4g", _ram, (long)below, (ulong)config.RamSize - below));
            if (config.Bios is { } biosPath)
                _bios = MapBios(ReadFile("-bios", biosPath));
            else
                _kernel = config.Kernel is { } kernelPath ? ReadFile("-kernel", kernelPath) : config.DemoGuest ? DemoGuest.Image() : null;
            foreach (var initrd in config.Initrd)
                _modules.Add((initrd, ReadFile("-initrd", initrd)));
            Cpu = new X86Cpu(Memory, Io) { Clock = () => Timers.Clock.Now, ApicPresent = true };
            WireInterrupts();
            CreateDevices(backends);
            _context = new DeviceContext { Memory = Memory, Io = Io, Timers = Timers, IsaIrq = IsaIrq, Control = control, Block = block ?? new Qmp.Block.BlockGraph() };
            RealizeAll(_context);
            _pci.Unplugged += OnUnplugged;
            _pci.UnplugRefused += OnUnplugRefused;
            LoadBootImage();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public X86Cpu Cpu { get; } = null!;

    /// <inheritdoc/>
    public TimerQueue Timers { get; }

    /// <summary>Guest physical memory.</summary>
    public AddressSpace Memory { get; }

    /// <summary>Port I/O space.</summary>
    public PortIoSpace Io { get; }

    /// <summary>The realized devices, in realize order.</summary>
    public IReadOnlyList<Device> Devices => _devices;

    /// <inheritdoc/>
    public void Reset()
    {
        // The guest that would answer pending unplug requests is gone (QEMU's ACPI hotplug does the same).
        CompletePendingUnplugs();
        Cpu.Reset();
        _pic.Reset();
        _apic.Reset();
        _ioapic.Reset();
        _pit.Reset();
        _speaker.Reset();
        _rtc.Reset();
        _i8042.Reset();
        _acpi.Reset();
        _fwCfg.Reset();
        _pci.Reset();
        foreach (var uart in _uarts)
            uart.Reset();
        LoadBootImage();
    }

    /// <inheritdoc/>
    public void PressPowerButton() => _acpi.PressPowerButton();

    /// <inheritdoc/>
    public void InjectNmi() => _apic.Lint1.Pulse();

    /// <inheritdoc/>
    public void Dispose()
    {
        for (var i = _devices.Count - 1; i >= 0; i--)
            _devices[i].Unrealize();
        _devices.Clear();
        _ram.Dispose();
        _bios?.Dispose();
    }

    // Anonymous memory by default; a memfd when a memfd backend or aux-ram-share asks, so that
    // migration and cpr-transfer can hand the pages to another process.
    private static RamBlock CreateRam(MachineConfig config)
    {
        try
        {
            return config.MemoryBackend switch
            {
                { Type: "memory-backend-memfd" } b => RamBlock.CreateMemfd(b.Id, config.RamSize, b.Share),
                { } b when config.AuxRamShare || b.Share => RamBlock.CreateMemfd(b.Id, config.RamSize, share: true),
                { } b => RamBlock.CreateAnonymous(b.Id, config.RamSize),
                null when config.AuxRamShare => RamBlock.CreateMemfd("pc.ram", config.RamSize, share: true),
                null => RamBlock.CreateAnonymous("pc.ram", config.RamSize),
            };
        }
        catch (Exception e) when (e is IOException or OutOfMemoryException or ArgumentOutOfRangeException)
        {
            throw new MachineOperationException($"cannot set up guest memory '{config.MemoryBackend?.Id ?? "pc.ram"}': {e.Message}");
        }
    }

    /// <summary>The RAM block behind guest memory (its memfd, if any, is <see cref="RamBlock.Fd"/>).</summary>
    public RamBlock Ram => _ram;

    private static byte[] ReadFile(string option, string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MachineOperationException($"{option}: could not load '{path}': {e.Message}");
        }
    }

    // QEMU maps the BIOS at the top of 4 GiB and its last 128 KiB at 0xE0000 (isa-bios).
    private RamBlock MapBios(byte[] image)
    {
        if (image.Length == 0 || image.Length % 65536 != 0 || image.Length > 16 << 20)
            throw new MachineOperationException($"-bios: qemu: could not load PC BIOS: size {image.Length} is not a multiple of 64 KiB up to 16 MiB");
        var rom = RamBlock.CreateAnonymous("pc.bios", image.Length);
        image.CopyTo(rom.GetSpan(0, image.Length));
        Memory.Map(0x100000000 - (ulong)image.Length, MemoryRegion.Rom("pc.bios", rom, 0, (ulong)image.Length), priority: 1);
        var isa = Math.Min(image.Length, 128 * 1024);
        Memory.Map(0x100000 - (ulong)isa, MemoryRegion.Rom("isa-bios", rom, image.Length - isa, (ulong)isa), priority: 1);
        return rom;
    }

    // The interrupt path of a PC: ISA IRQs go to both the PIC pair and the IOAPIC (IRQ 0 on pin 2),
    // the PIC reaches the CPU through the local APIC's LINT0 (virtual wire mode after reset), the
    // IOAPIC through the local APIC's vectors; level-triggered EOIs go back to the IOAPIC.
    private void WireInterrupts()
    {
        _apic.ExtIntSource = _pic;
        _ioapic.LocalApic = _apic;
        Cpu.ConnectInterruptLine(_apic);
        _pic.InterruptRequested += _apic.Lint0.Pulse;
        _apic.InterruptRequested += Cpu.NotifyInterruptRequest;
        _apic.NmiRequested += Cpu.RaiseNmi;
        _apic.EndOfInterruptBroadcast += _ioapic.EndOfInterrupt;
        Cpu.TscDeadline = (() => _apic.TscDeadline, _apic.WriteTscDeadline);
        Cpu.ApicBaseChanged += value => _apic.HardwareEnabled = (value & 0x800) != 0;
        for (var irq = 0; irq < _isaIrqs.Length; irq++)
        {
            var pic = _pic.Input(irq);
            var ioapic = _ioapic.Input(irq == 0 ? 2 : irq);
            _isaIrqs[irq] = new IrqLine(level =>
            {
                pic.Set(level);
                ioapic.Set(level);
            });
        }
    }

    private IrqLine IsaIrq(int irq) => _isaIrqs[irq];

    private void CreateDevices(Func<CharBackendConfig, ICharBackend> backends)
    {
        var backendById = _config.CharBackends.ToDictionary(b => b.Id, backends, StringComparer.Ordinal);
        _backendById = backendById;
        _speaker.Pit = _pit;
        _rtc.RamSize = _config.RamSize;
        _rtc.RamBelow4G = (long)Math.Min((ulong)_config.RamSize, Below4GLimit);
        _fwCfg.RamSize = _config.RamSize;
        _fwCfg.CpuCount = _config.Cpus;
        _fwCfg.Uuid = _config.Uuid;
        _fwCfg.NoGraphic = true;
        _fwCfg.AddE820Table(MultibootLoader.MemoryMapEntries(_config.RamSize).Select(e => new FwCfgE820Entry(e.Base, e.Length, e.Type)));
        foreach (var item in _config.FwCfgItems)
        {
            var file = FwCfgOption.Parse(item);
            _fwCfg.AddFile(file.Name, file.Data);
        }
        _devices.AddRange([_pic, _apic, _ioapic, _pit, _speaker, _rtc, _i8042, _acpi, _fwCfg, _pci]);
        for (var i = 0; i < _config.Serials.Count; i++)
        {
            var id = _config.Serials[i];
            var uart = new Uart16550 { Index = i, Backend = id is null ? null : backendById[id] };
            _uarts.Add(uart);
            _devices.Add(uart);
        }
        foreach (var device in _config.Devices)
            AddUserDevice(CreateDevice(device, hotplugGate: null));
    }

    private void RealizeAll(DeviceContext context)
    {
        var realized = new List<Device>();
        try
        {
            foreach (var device in _devices)
            {
                // A function behind a hotplug slot is cold-plugged: present and powered from the start.
                var slot = (device as PciDevice)?.Bus?.HotplugHandler;
                slot?.PrePlug((PciDevice)device);
                device.Realize(context);
                realized.Add(device);
                slot?.Plug((PciDevice)device);
            }
        }
        catch (DeviceRealizeException e)
        {
            for (var i = realized.Count - 1; i >= 0; i--)
                realized[i].Unrealize();
            _devices.Clear();
            throw new MachineOperationException(e.Message);
        }
    }

    private void LoadBootImage()
    {
        if (_kernel is null)
        {
            // Nothing to boot: park the CPU as firmware that found no boot device does.
            if (_bios is null)
                Cpu.Park();
            return;
        }
        try
        {
            var name = _config.Kernel ?? "qmpd-demo";
            // Without firmware nobody routes PCI interrupts or sets up the local APIC: leave both
            // as SeaBIOS leaves them on QEMU's pc before it jumps to a -kernel image (APIC enabled,
            // LINT0 ExtINT and LINT1 NMI, both level-triggered).
            _pci.ApplyFirmwareIrqRouting();
            Memory.Write(LocalApic.DefaultBaseAddress + 0xF0, 4, Memory.Read(LocalApic.DefaultBaseAddress + 0xF0, 4) | 0x100);
            Memory.Write(LocalApic.DefaultBaseAddress + 0x350, 4, 0x8700);
            Memory.Write(LocalApic.DefaultBaseAddress + 0x360, 4, 0x8400);
            var image = MultibootLoader.Load(Memory, _config.RamSize, _kernel, name, _config.Append, _modules);
            Cpu.EnterFlatProtectedMode(image.Entry, eflags: 0x6);
            Cpu.SetDescriptorTables(image.GdtBase, image.GdtLimit, 0, 0x3FF);
            Cpu.SetRegister(0, image.Eax);
            Cpu.SetRegister(3, image.Ebx);
            Cpu.SetRegister(1, image.Ecx);
            Cpu.SetRegister(4, image.Esp);
        }
        catch (InvalidDataException e)
        {
            throw new MachineOperationException($"-kernel: {e.Message}");
        }
    }
}
