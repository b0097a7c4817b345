namespace Qmp.Machine.Qom;

/// <summary>The QOM types qmpd implements, with their parents as in QEMU (for qom-list-types).</summary>
public static class QomTypes
{
    /// <summary>Name, parent and whether the type is abstract.</summary>
    public static IReadOnlyList<(string Name, string? Parent, bool Abstract)> All { get; } =
    [
        ("object", null, true),
        ("container", "object", false),
        ("device", "object", true),
        ("machine", "object", true),
        ("x86-machine", "machine", true),
        ("generic-pc-machine", "x86-machine", true),
        ("pc-i440fx-10.0-machine", "generic-pc-machine", false),
        ("none-machine", "machine", false),
        ("isa-device", "device", true),
        ("isa-debug-exit", "isa-device", false),
        ("isa-debugcon", "isa-device", false),
        ("isa-serial", "isa-device", false),
        ("pic-common", "isa-device", true),
        ("isa-i8259", "pic-common", false),
        ("pit-common", "isa-device", true),
        ("isa-pit", "pit-common", false),
        ("isa-pcspk", "isa-device", false),
        ("mc146818rtc", "isa-device", false),
        ("i8042", "isa-device", false),
        ("fw_cfg", "device", true),
        ("fw_cfg_io", "fw_cfg", false),
        ("pci-device", "device", true),
        ("PIIX4_PM", "pci-device", false),
        ("i440FX", "pci-device", false),
        ("PIIX3", "pci-device", false),
        ("virtio-pci", "pci-device", true),
        ("virtio-rng-pci", "virtio-pci", false),
        ("virtio-blk-pci", "virtio-pci", false),
        ("base-pci-bridge", "pci-device", true),
        ("pcie-port", "base-pci-bridge", true),
        ("pcie-slot", "pcie-port", true),
        ("pcie-root-port-base", "pcie-slot", true),
        ("pcie-root-port", "pcie-root-port-base", false),
        ("sys-bus-device", "device", true),
        ("pci-host-bridge", "sys-bus-device", true),
        ("i440FX-pcihost", "pci-host-bridge", false),
        ("apic-common", "device", true),
        ("apic", "apic-common", false),
        ("ioapic-common", "sys-bus-device", true),
        ("ioapic", "ioapic-common", false),
        ("memory-backend", "object", true),
        ("memory-backend-ram", "memory-backend", false),
        ("memory-backend-memfd", "memory-backend", false),
        ("chardev", "object", true),
        ("chardev-null", "chardev", false),
        ("chardev-file", "chardev", false),
        ("chardev-stdio", "chardev", false),
        ("chardev-ringbuf", "chardev", false),
        ("chardev-socket", "chardev", false),
    ];

    /// <summary>Whether <paramref name="type"/> is <paramref name="ancestor"/> or derives from it.</summary>
    public static bool Implements(string type, string ancestor)
    {
        for (string? t = type; t is not null; t = All.FirstOrDefault(x => x.Name == t).Parent)
        {
            if (t == ancestor)
                return true;
        }
        return false;
    }
}
