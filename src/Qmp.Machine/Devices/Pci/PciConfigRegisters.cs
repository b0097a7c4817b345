namespace Qmp.Machine.Devices.Pci;

/// <summary>Offsets and bits of the type-0 configuration header (PCI Local Bus 3.0, §6.1).</summary>
internal static class PciConfigRegisters
{
    public const int SpaceSize = 0x100;
    public const int HeaderSize = 0x40;

    public const int VendorIdRegister = 0x00;
    public const int DeviceIdRegister = 0x02;
    public const int Command = 0x04;
    public const int Status = 0x06;
    public const int RevisionId = 0x08;
    public const int ClassProg = 0x09;
    public const int ClassDevice = 0x0A;
    public const int CacheLineSize = 0x0C;
    public const int HeaderType = 0x0E;
    public const int Bar0 = 0x10;
    public const int SubsystemVendorIdRegister = 0x2C;
    public const int SubsystemIdRegister = 0x2E;
    public const int RomAddress = 0x30;
    public const int CapabilityList = 0x34;
    public const int InterruptLineRegister = 0x3C;
    public const int InterruptPinRegister = 0x3D;

    public const ushort CommandIo = 0x0001;
    public const ushort CommandMemory = 0x0002;
    public const ushort CommandMaster = 0x0004;
    public const ushort CommandSerr = 0x0100;
    public const ushort CommandIntxDisable = 0x0400;

    public const ushort StatusInterrupt = 0x0008;
    public const ushort StatusCapList = 0x0010;

    // Error bits the guest clears by writing 1 (QEMU's pci_init_w1cmask).
    public const ushort StatusWriteOneToClear = 0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;

    public const byte HeaderTypeMultiFunction = 0x80;

    public const ushort DefaultSubsystemVendorId = 0x1AF4;
    public const ushort DefaultSubsystemId = 0x1100;
}
