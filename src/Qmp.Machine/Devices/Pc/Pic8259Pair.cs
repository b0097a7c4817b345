using Qmp.Cpu.X86;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// The PC's two cascaded 8259A interrupt controllers (QEMU's two <c>isa-i8259</c> devices):
/// master at 0x20-0x21 with ELCR 0x4d0, slave at 0xa0-0xa1 with ELCR 0x4d1, the slave's INT
/// output on master input 2. It drives the CPU's INTR pin: <see cref="IsPending"/> is the pin,
/// <see cref="Acknowledge"/> the INTA cycle.
/// </summary>
public sealed class Pic8259Pair : Device, IInterruptLine, IStatefulDevice
{
    private const int CurrentVersion = 1;

    private readonly PicChip _master = new(master: true, elcrMask: 0xF8);
    private readonly PicChip _slave = new(master: false, elcrMask: 0xDE);
    private readonly IrqLine[] _inputs = new IrqLine[16];
    private bool _intr;

    /// <summary>Creates the pair in its power-on state.</summary>
    public Pic8259Pair()
    {
        for (var i = 0; i < 16; i++)
        {
            var irq = i;
            _inputs[i] = new IrqLine(level => SetIrq(irq, level));
        }
        _slave.OutputChanged = level => _master.SetIrq(2, level);
        _master.OutputChanged = OnMasterOutput;
        Reset();
    }

    /// <inheritdoc/>
    public override string TypeName => "isa-i8259";

    /// <inheritdoc/>
    public string SectionName => "i8259";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>Raised on the machine thread when INTR goes high, so the machine can wake a halted CPU.</summary>
    public event Action? InterruptRequested;

    /// <summary>The INTR output: true while the master has a request to deliver.</summary>
    public bool IsPending => _intr;

    /// <summary>The master's interrupt request register.</summary>
    public byte MasterIrr => _master.Irr;

    /// <summary>The master's in-service register.</summary>
    public byte MasterIsr => _master.Isr;

    /// <summary>The slave's interrupt request register.</summary>
    public byte SlaveIrr => _slave.Irr;

    /// <summary>The slave's in-service register.</summary>
    public byte SlaveIsr => _slave.Isr;

    /// <summary>ISA interrupt <paramref name="irq"/> (0..15); 0..7 enter the master, 8..15 the slave.</summary>
    public IrqLine Input(int irq)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(irq);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(irq, 15);
        return _inputs[irq];
    }

    /// <summary>
    /// The interrupt-acknowledge cycle: returns the vector and moves the request to in-service.
    /// With nothing to deliver (the request went away before INTA) it returns the spurious
    /// IRQ 7 vector of the master, or IRQ 15 of the slave, without setting an in-service bit
    /// on that controller, as the datasheet describes.
    /// </summary>
    public int Acknowledge()
    {
        var irq = _master.PendingIrq();
        int vector;
        if (irq < 0)
            return _master.IrqBase + 7;
        if (irq == 2)
        {
            var slaveIrq = _slave.PendingIrq();
            if (slaveIrq >= 0)
            {
                vector = _slave.IrqBase + slaveIrq;
                _slave.Acknowledge(slaveIrq);
            }
            else
                vector = _slave.IrqBase + 7;
        }
        else
            vector = _master.IrqBase + irq;
        _master.Acknowledge(irq);
        return vector;
    }

    /// <summary>System reset: both controllers return to their power-on state (ELCR cleared).</summary>
    public void Reset()
    {
        _slave.Reset();
        _master.Reset();
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        _master.Save(writer);
        _slave.Save(writer);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        _master.Load(reader);
        _slave.Load(reader);
        // The slave's INT feeds master IRQ2; make the master see the restored level.
        _slave.Update();
    }

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        scope.MapPorts(0x20, MemoryRegion.Io("pic", 2, Ports(_master), IoAccessRules.Bytes));
        scope.MapPorts(0xA0, MemoryRegion.Io("pic", 2, Ports(_slave), IoAccessRules.Bytes));
        scope.MapPorts(0x4D0, MemoryRegion.Io("elcr", 1, Elcr(_master), IoAccessRules.Bytes));
        scope.MapPorts(0x4D1, MemoryRegion.Io("elcr", 1, Elcr(_slave), IoAccessRules.Bytes));
    }

    private static DelegateIoHandler Ports(PicChip chip) => new(
        (offset, _) => offset == 0 ? chip.ReadCommand() : chip.ReadData(),
        (offset, _, value) =>
        {
            if (offset == 0)
                chip.WriteCommand((byte)value);
            else
                chip.WriteData((byte)value);
        });

    private static DelegateIoHandler Elcr(PicChip chip) => new(
        (_, _) => chip.Elcr,
        (_, _, value) => chip.WriteElcr((byte)value));

    private void SetIrq(int irq, bool level)
    {
        if (irq < 8)
            _master.SetIrq(irq, level);
        else
            _slave.SetIrq(irq - 8, level);
    }

    private void OnMasterOutput(bool level)
    {
        var rose = level && !_intr;
        _intr = level;
        if (rose)
            InterruptRequested?.Invoke();
    }
}
