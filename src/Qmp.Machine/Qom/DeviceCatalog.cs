using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Acpi;
using Qmp.Machine.Devices.Apic;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Devices.Virtio;

namespace Qmp.Machine.Qom;

/// <summary>
/// Fresh, unrealized instances of every device type qmpd implements, for device-list-properties
/// (constructors touch no host resource, so this is free of side effects).
/// </summary>
public static class DeviceCatalog
{
    private static readonly Dictionary<string, Func<Device>> s_factories = new(StringComparer.Ordinal)
    {
        ["isa-debug-exit"] = () => new IsaDebugExit(),
        ["isa-debugcon"] = () => new DebugConsole(),
        ["isa-serial"] = () => new Uart16550(),
        ["isa-i8259"] = () => new Pic8259Pair(),
        ["isa-pit"] = () => new Pit8254(),
        ["isa-pcspk"] = () => new PcSpeaker(),
        ["mc146818rtc"] = () => new CmosRtc(),
        ["i8042"] = () => new I8042(),
        ["PIIX4_PM"] = () => new AcpiPm(),
        ["fw_cfg_io"] = () => new Devices.FwCfg.FwCfg(),
        ["apic"] = () => new LocalApic(),
        ["ioapic"] = () => new IoApic(),
        ["virtio-rng-pci"] = () => new VirtioRngPci(),
    };

    /// <summary>A new instance of <paramref name="typeName"/>, or null when it is not a concrete device type.</summary>
    public static Device? Create(string typeName) => s_factories.TryGetValue(typeName, out var factory) ? factory() : null;
}
