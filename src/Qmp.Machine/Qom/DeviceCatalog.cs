using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Acpi;
using Qmp.Machine.Devices.Apic;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Devices.Virtio;

namespace Qmp.Machine.Qom;

/// <summary>
/// Fresh, unrealized instances of every device type qmpd implements, for -device and device-list-properties
/// (constructors touch no host resource, so this is free of side effects).
/// </summary>
public static class DeviceCatalog
{
    private static readonly Dictionary<string, Func<string?, Device>> s_factories = new(StringComparer.Ordinal)
    {
        ["isa-debug-exit"] = id => new IsaDebugExit { Id = id },
        ["isa-debugcon"] = id => new DebugConsole { Id = id },
        ["isa-serial"] = id => new Uart16550 { Id = id },
        ["isa-i8259"] = id => new Pic8259Pair { Id = id },
        ["isa-pit"] = id => new Pit8254 { Id = id },
        ["isa-pcspk"] = id => new PcSpeaker { Id = id },
        ["mc146818rtc"] = id => new CmosRtc { Id = id },
        ["i8042"] = id => new I8042 { Id = id },
        ["PIIX4_PM"] = id => new AcpiPm { Id = id },
        ["fw_cfg_io"] = id => new Devices.FwCfg.FwCfg { Id = id },
        ["apic"] = id => new LocalApic { Id = id },
        ["ioapic"] = id => new IoApic { Id = id },
        ["virtio-rng-pci"] = id => new VirtioRngPci { Id = id },
        ["virtio-blk-pci"] = id => new VirtioBlkPci { Id = id },
        ["pcie-root-port"] = id => new Devices.Pci.PcieRootPort { Id = id },
    };

    /// <summary>The device types a user may create with <c>-device</c> (the board creates the others).</summary>
    public static IReadOnlySet<string> UserCreatable { get; } = new HashSet<string>(StringComparer.Ordinal) { "isa-debug-exit", "isa-debugcon", "virtio-rng-pci", "virtio-blk-pci", "pcie-root-port" };

    /// <summary>A new instance of <paramref name="typeName"/> with <paramref name="id"/>, or null when it is not a concrete device type.</summary>
    public static Device? Create(string typeName, string? id = null) => s_factories.TryGetValue(typeName, out var factory) ? factory(id) : null;
}
