using Qmp.Memory;

namespace Qmp.Machine.Devices.Acpi;

/// <summary>
/// The ACPI fixed-hardware power management block of QEMU's pc machine (PIIX4 PM, type
/// <c>PIIX4_PM</c>) at the I/O base SeaBIOS programs, 0x600, with the APM/SMI command port 0xB2.
/// This is the guest-visible power button:
/// <list type="bullet">
/// <item>The OS enters ACPI mode by writing ACPI_ENABLE (0xF1) to SMI_CMD (0xB2); PM1_CNT.SCI_EN (bit 0) then reads 1 (0xF0 clears it).</item>
/// <item>It sets PM1_EN.PWRBTN_EN (bit 8 of the 16-bit register at base+2). A press is latched only while that enable is set, as in QEMU.</item>
/// <item><c>system_powerdown</c> then sets PM1_STS.PWRBTN_STS (bit 8 at base+0); the SCI (ISA IRQ 9) is asserted while any of TMR, GBL, PWRBTN or RTC is both set in PM1_STS and enabled in PM1_EN.</item>
/// <item>The OS clears the status by writing 1 to it, and powers off by writing SLP_TYP=0 with SLP_EN (bit 13) to PM1_CNT (base+4), QEMU's S5: SHUTDOWN with reason guest-shutdown.</item>
/// </list>
/// The PM timer (base+8, 24 bits at 3.579545 MHz) counts virtual time; TMR_STS is set at reset and
/// whenever timer bit 23 changes, as QEMU does, but its overflow interrupt is not generated.
/// </summary>
public sealed class AcpiPm : Device, IStatefulDevice
{
    private const ushort TmrSts = 1 << 0;
    private const ushort SciEvents = TmrSts | (1 << 5) | (1 << 8) | (1 << 10);
    private const ushort PwrbtnSts = 1 << 8;
    private const ushort SciEn = 1 << 0;
    private const ushort SlpEn = 1 << 13;
    private const long TimerHz = 3_579_545;

    private ushort _base = 0x600;
    private ushort _status;
    private ushort _enable;
    private ushort _control;
    private byte _apmStatus;
    private byte _apmControl;
    private uint _timerBit23;
    private IrqLine _sci = IrqLine.Unconnected;
    private DeviceContext? _context;

    /// <inheritdoc/>
    public override string TypeName => "PIIX4_PM";

    /// <summary>The PM I/O base (PMBA).</summary>
    public ushort IoBase
    {
        get => _base;
        set
        {
            CheckNotRealized("pm_io_base");
            _base = value;
        }
    }

    /// <summary>Whether the OS has switched to ACPI mode (SCI_EN).</summary>
    public bool AcpiEnabled => (_control & SciEn) != 0;

    /// <inheritdoc/>
    public string SectionName => "piix4_pm";

    /// <inheritdoc/>
    public int StateVersion => 1;

    /// <summary>Presses the power button (QMP <c>system_powerdown</c>).</summary>
    public void PressPowerButton()
    {
        if ((_enable & PwrbtnSts) == 0)
            return;
        _status |= PwrbtnSts;
        UpdateSci();
    }

    /// <summary>Device reset: back to legacy (non-ACPI) mode, everything clear.</summary>
    public void Reset()
    {
        _status = TmrSts;
        _enable = _control = 0;
        _apmStatus = _apmControl = 0;
        _timerBit23 = TimerTicks() >> 23;
        UpdateSci();
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_status);
        writer.Write(_enable);
        writer.Write(_control);
        writer.Write(_apmStatus);
        writer.Write(_apmControl);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        if (version != StateVersion)
            throw new InvalidDataException($"section '{SectionName}': version {version} is not supported (expected {StateVersion})");
        _status = reader.ReadUInt16();
        _enable = reader.ReadUInt16();
        _control = reader.ReadUInt16();
        _apmStatus = reader.ReadByte();
        _apmControl = reader.ReadByte();
        UpdateSci();
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("pm_io_base", "uint32", () => (long)IoBase, v => IoBase = checked((ushort)Qom.QomValues.UInt32(v, "pm_io_base"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        _context = scope.Context;
        _sci = scope.Context.IsaIrq(9);
        Reset();
        scope.MapPorts(_base, MemoryRegion.Io("acpi-pm", 64, new PmHandler(this), new IoAccessRules(1, 2)));
        scope.MapPorts(0xB2, MemoryRegion.Io("apm-io", 2, new ApmHandler(this), IoAccessRules.Bytes));
        scope.OnUndo(() =>
        {
            _sci = IrqLine.Unconnected;
            _context = null;
        });
    }

    private void UpdateSci() => _sci.Set((_status & _enable & SciEvents) != 0);

    private uint TimerTicks() => (uint)((_context?.Timers.Clock.Now ?? 0) * TimerHz / 1_000_000_000) & 0xFFFFFF;

    // TMR_STS is set whenever bit 23 of the timer changed since it was last looked at.
    private void UpdateTimerStatus()
    {
        var bit = TimerTicks() >> 23;
        if (bit != _timerBit23)
        {
            _timerBit23 = bit;
            _status |= TmrSts;
        }
    }

    private uint ReadPm(ulong offset)
    {
        if (offset is >= 8 and < 12)
            return TimerTicks() >> (int)((offset - 8) * 8);
        UpdateTimerStatus();
        uint register = (offset & ~1UL) switch
        {
            0 => _status,
            2 => _enable,
            4 => _control,
            _ => 0u,
        };
        return register >> (int)((offset & 1) * 8);
    }

    private void WritePm(ulong offset, int size, ulong value)
    {
        switch (offset)
        {
            case 0:
                UpdateTimerStatus();
                _status &= (ushort)~value;
                break;
            case 2:
                _enable = (ushort)value;
                break;
            case 4:
                // Plain read/write except SLP_EN, which acts and never reads back (QEMU's acpi_pm1_cnt_write).
                _control = (ushort)(value & ~(ulong)SlpEn);
                if ((value & SlpEn) != 0 && ((value >> 10) & 7) == 0)
                    _context?.Control.RequestShutdown(ShutdownCause.GuestShutdown);
                break;
        }
        _ = size;
        UpdateSci();
    }

    private void WriteApm(ulong offset, ulong value)
    {
        if (offset == 1)
        {
            _apmStatus = (byte)value;
            return;
        }
        _apmControl = (byte)value;
        if (value == 0xF1)
            _control |= SciEn;
        else if (value == 0xF0)
            _control &= unchecked((ushort)~SciEn);
        UpdateSci();
    }

    private sealed class PmHandler(AcpiPm pm) : IIoHandler
    {
        public ulong Read(ulong offset, int size) => pm.ReadPm(offset);

        public void Write(ulong offset, int size, ulong value) => pm.WritePm(offset, size, value);
    }

    private sealed class ApmHandler(AcpiPm pm) : IIoHandler
    {
        public ulong Read(ulong offset, int size) => offset == 1 ? pm._apmStatus : pm._apmControl;

        public void Write(ulong offset, int size, ulong value) => pm.WriteApm(offset, value);
    }
}
