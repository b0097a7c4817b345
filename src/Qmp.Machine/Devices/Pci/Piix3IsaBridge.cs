namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// The PIIX3 PCI-to-ISA bridge as QEMU's <c>PIIX3</c> function 00:01.0 (8086:7000, ISA bridge,
/// multifunction): the PIRQA-D route control registers 0x60-0x63 (bit 7 disables a PIRQ, otherwise
/// the low bits name the ISA IRQ; reset 0x80) and the reset control register at port 0xCF9, which the
/// host's configuration-address region forwards here.
/// </summary>
internal sealed class Piix3IsaBridge : PciDevice
{
    public const int PirqCount = 4;

    private const int PirqRouteRegister = 0x60;
    private const int IsaIrqCount = 16;
    private const byte RouteDisabled = 0x80;
    private const byte RcrSystemReset = 0x02;
    private const byte RcrResetCpu = 0x04;

    // One bit per (ISA IRQ, PIRQ) pair as QEMU's pic_levels: bit irq * 4 + pirq.
    private ulong _picLevels;
    private byte _rcr;
    private Func<int, IrqLine>? _isaIrq;

    public override string TypeName => "PIIX3";

    public byte Rcr => _rcr;

    protected override ushort VendorId => 0x8086;

    protected override ushort DeviceId => 0x7000;

    protected override ushort ClassId => 0x0601;

    /// <summary>The route register of <paramref name="pirq"/>: an ISA IRQ below 16, or disabled.</summary>
    public byte Route(int pirq) => Config[PirqRouteRegister + pirq];

    /// <summary>Writes a route register as the guest would, so the ISA levels follow.</summary>
    public void SetRoute(int pirq, byte value) => HostConfigWrite(PirqRouteRegister + pirq, 1, value);

    /// <summary>The reset control register (QEMU's rcr_write): bit 2 resets the machine, bit 1 is kept.</summary>
    public void WriteRcr(byte value)
    {
        if ((value & RcrResetCpu) != 0)
        {
            Context.Control.RequestReset(ShutdownCause.GuestReset);
            return;
        }
        _rcr = (byte)(value & RcrSystemReset);
    }

    /// <summary>The bus's PIRQ <paramref name="pirq"/> changed level: drive the ISA IRQ it is routed to.</summary>
    public void SetPirqLevel(int pirq, bool level)
    {
        var irq = Route(pirq);
        if (irq >= IsaIrqCount)
            return;
        SetLevelBit(irq, pirq, level);
        DriveIsaIrq(irq);
    }

    protected override void RealizePci(RealizeScope scope)
    {
        _isaIrq = scope.Context.IsaIrq;
        scope.OnUndo(() =>
        {
            var driven = DrivenIrqs();
            _picLevels = 0;
            DriveIsaIrqs(driven);
            _isaIrq = null;
        });
        ResetRegisters();
    }

    protected override void OnReset()
    {
        var driven = DrivenIrqs();
        ResetRegisters();
        DriveIsaIrqs(driven);
    }

    protected override void WriteConfig(int offset, int size, uint value)
    {
        var routed = RoutedIrqs();
        base.WriteConfig(offset, size, value);
        if (offset < PirqRouteRegister + PirqCount && PirqRouteRegister < offset + size)
            UpdateIrqLevels(routed);
    }

    protected override void SaveDeviceState(BinaryWriter writer) => writer.Write(_rcr);

    protected override void LoadDeviceState(BinaryReader reader, int version)
    {
        _rcr = (byte)(reader.ReadByte() & RcrSystemReset);
        UpdateIrqLevels(DrivenIrqs());
    }

    // QEMU's piix_reset: the chipset defaults, every PIRQ disabled.
    private void ResetRegisters()
    {
        var config = Config;
        config[0x04] = 0x07;
        config[0x05] = 0x00;
        config[0x06] = 0x00;
        config[0x07] = 0x02;
        config[0x4C] = 0x4D;
        config[0x4E] = 0x03;
        config[0x4F] = 0x00;
        config.Slice(PirqRouteRegister, PirqCount).Fill(RouteDisabled);
        config[0x69] = 0x02;
        config[0x70] = 0x80;
        config[0x76] = 0x0C;
        config[0x77] = 0x0C;
        config[0x78] = 0x02;
        config[0x79] = 0x00;
        config[0x80] = 0x00;
        config[0x82] = 0x00;
        config[0xA0] = 0x08;
        config.Slice(0xA2, 6).Clear();
        config[0xA8] = 0x0F;
        config[0xAA] = 0x00;
        config[0xAB] = 0x00;
        config[0xAC] = 0x00;
        config[0xAE] = 0x00;
        _picLevels = 0;
        _rcr = 0;
    }

    // The routing changed: rebuild the levels from the bus and drive every IRQ routed before or now,
    // leaving ISA IRQs no PIRQ touches to their ISA devices.
    private void UpdateIrqLevels(int previouslyRouted)
    {
        _picLevels = 0;
        for (var pirq = 0; pirq < PirqCount; pirq++)
        {
            var irq = Route(pirq);
            if (irq < IsaIrqCount && Bus is { } bus)
                SetLevelBit(irq, pirq, bus.Host.PirqLevel(pirq));
        }
        DriveIsaIrqs(previouslyRouted | RoutedIrqs());
    }

    private void SetLevelBit(int irq, int pirq, bool level)
    {
        var bit = 1UL << ((irq * PirqCount) + pirq);
        _picLevels = level ? _picLevels | bit : _picLevels & ~bit;
    }

    private int RoutedIrqs()
    {
        var mask = 0;
        for (var pirq = 0; pirq < PirqCount; pirq++)
        {
            if (Route(pirq) < IsaIrqCount)
                mask |= 1 << Route(pirq);
        }
        return mask;
    }

    private int DrivenIrqs()
    {
        var mask = 0;
        for (var irq = 0; irq < IsaIrqCount; irq++)
        {
            if (((_picLevels >> (irq * PirqCount)) & 0xF) != 0)
                mask |= 1 << irq;
        }
        return mask;
    }

    private void DriveIsaIrqs(int mask)
    {
        for (var irq = 0; irq < IsaIrqCount; irq++)
        {
            if ((mask & (1 << irq)) != 0)
                DriveIsaIrq(irq);
        }
    }

    private void DriveIsaIrq(int irq) => _isaIrq?.Invoke(irq).Set(((_picLevels >> (irq * PirqCount)) & 0xF) != 0);
}
