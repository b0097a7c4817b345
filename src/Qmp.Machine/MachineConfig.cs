namespace Qmp.Machine;

/// <summary>What the command line or config file says about one machine. Plain data, no validation.</summary>
public sealed record MachineConfig
{
    /// <summary>The <c>-name</c>; null when none was given (query-name then returns <c>{}</c>).</summary>
    public string? Name { get; init; }

    /// <summary>The <c>-uuid</c>; all zeroes by default, as in QEMU.</summary>
    public Guid Uuid { get; init; } = Guid.Empty;

    /// <summary>The board type (<c>-machine TYPE</c>), resolved from aliases.</summary>
    public string MachineType { get; init; } = MachineTypes.Default.Name;

    /// <summary>Guest RAM in bytes (<c>-m</c>); QEMU's default is 128 MiB.</summary>
    public long RamSize { get; init; } = 128L * 1024 * 1024;

    /// <summary>Whether <c>-m</c> was given (a memory backend's size then has to match it).</summary>
    public bool RamSizeGiven { get; init; }

    /// <summary>The backend of guest RAM (<c>-machine memory-backend=ID</c>); null for anonymous memory.</summary>
    public MemoryBackendConfig? MemoryBackend { get; init; }

    /// <summary><c>-machine aux-ram-share=on</c>: RAM in a shared memfd even without a backend, so cpr can hand it over.</summary>
    public bool AuxRamShare { get; init; }

    /// <summary>Number of vCPUs (<c>-smp</c>).</summary>
    public int Cpus { get; init; } = 1;

    /// <summary><c>-S</c>: start in prelaunch and wait for <c>cont</c>.</summary>
    public bool StartPaused { get; init; }

    /// <summary><c>-no-shutdown</c>: a guest poweroff stops the machine instead of ending the process.</summary>
    public bool NoShutdown { get; init; }

    /// <summary><c>-no-reboot</c>: a guest reset (or triple fault) ends the process like a power-off, as in QEMU.</summary>
    public bool NoReboot { get; init; }

    /// <summary>
    /// Boot the built-in demo guest when there is no <c>-kernel</c> or <c>-bios</c> (qmpd run without
    /// options). Otherwise a machine with nothing to boot idles, as QEMU's firmware does.
    /// </summary>
    public bool DemoGuest { get; init; }

    /// <summary><c>-kernel</c>: a Multiboot or ELF32 kernel image.</summary>
    public string? Kernel { get; init; }

    /// <summary><c>-bios</c>: a firmware ROM mapped below 4 GiB; the CPU starts at its reset vector.</summary>
    public string? Bios { get; init; }

    /// <summary><c>-append</c>: the kernel command line.</summary>
    public string? Append { get; init; }

    /// <summary><c>-initrd</c>: files handed to a Multiboot kernel as modules (comma-separated in QEMU).</summary>
    public IReadOnlyList<string> Initrd { get; init; } = [];

    /// <summary>Character backends declared with <c>-chardev</c> for guest devices, plus those <c>-serial</c> creates.</summary>
    public IReadOnlyList<CharBackendConfig> CharBackends { get; init; } = [];

    /// <summary>Serial ports COM1.. in order: the id of the backend of each (null: a port with no backend).</summary>
    public IReadOnlyList<string?> Serials { get; init; } = [];

    /// <summary><c>-fw_cfg</c> values as written (<c>name=opt/x,file=P</c> or <c>name=opt/x,string=S</c>).</summary>
    public IReadOnlyList<string> FwCfgItems { get; init; } = [];

    /// <summary>Devices added with <c>-device</c>.</summary>
    public IReadOnlyList<DeviceConfig> Devices { get; init; } = [];
}
