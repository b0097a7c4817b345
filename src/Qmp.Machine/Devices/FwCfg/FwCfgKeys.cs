namespace Qmp.Machine.Devices.FwCfg;

/// <summary>The selector keys of QEMU's fw_cfg (include/standard-headers/linux/qemu_fw_cfg.h, hw/i386/fw_cfg.h).</summary>
internal static class FwCfgKeys
{
    public const ushort Signature = 0x0000;
    public const ushort Id = 0x0001;
    public const ushort Uuid = 0x0002;
    public const ushort RamSize = 0x0003;
    public const ushort NoGraphic = 0x0004;
    public const ushort NbCpus = 0x0005;
    public const ushort MachineId = 0x0006;
    public const ushort KernelAddr = 0x0007;
    public const ushort KernelSize = 0x0008;
    public const ushort KernelCmdline = 0x0009;
    public const ushort InitrdAddr = 0x000a;
    public const ushort InitrdSize = 0x000b;
    public const ushort BootDevice = 0x000c;
    public const ushort Numa = 0x000d;
    public const ushort BootMenu = 0x000e;
    public const ushort MaxCpus = 0x000f;
    public const ushort KernelEntry = 0x0010;
    public const ushort KernelData = 0x0011;
    public const ushort InitrdData = 0x0012;
    public const ushort CmdlineAddr = 0x0013;
    public const ushort CmdlineSize = 0x0014;
    public const ushort CmdlineData = 0x0015;
    public const ushort SetupAddr = 0x0016;
    public const ushort SetupSize = 0x0017;
    public const ushort SetupData = 0x0018;
    public const ushort FileDir = 0x0019;

    /// <summary>The first file; files take 0x20 + their index in the name-sorted directory.</summary>
    public const ushort FileFirst = 0x0020;

    /// <summary>Bit 14: the "write channel", ignored since QEMU 2.4 (data-port writes are no-ops).</summary>
    public const ushort WriteChannel = 0x4000;

    /// <summary>Bit 15: the architecture's own table of items.</summary>
    public const ushort ArchLocal = 0x8000;

    /// <summary>The item index within its table.</summary>
    public const ushort EntryMask = 0x3fff;

    /// <summary>What the selector holds after selecting a key beyond the table.</summary>
    public const ushort Invalid = 0xffff;

    // x86 arch-local items (hw/i386/fw_cfg.h).
    public const ushort AcpiTables = ArchLocal | 0;
    public const ushort SmbiosEntries = ArchLocal | 1;
    public const ushort Irq0Override = ArchLocal | 2;
    public const ushort E820Table = ArchLocal | 3;
    public const ushort Hpet = ArchLocal | 4;
}
