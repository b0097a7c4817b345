using System.Globalization;
using System.Text.Json.Nodes;
using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Qom;

namespace Qmp.Machine.Pc;

// One definition of -device and device_add: the catalog makes the device and its QOM properties take the
// values, so the command line, device_add, qom-set and device-list-properties share each property. Only
// what is not a QOM property here is handled apart: the id, the bus, the chardev, the PCI address and the
// virtio transport variant.
public sealed partial class PcBoard
{
    private const string IsaBusName = "isa.0";

    // The devices a user made, in the order QomBuilder files them: QEMU puts id-less ones under
    // /machine/peripheral-anon/device[N].
    private void AddUserDevice(Device device)
    {
        device.UserCreated = true;
        _devices.Add(device);
        if (device is VirtioBlkPci { Id: null } blk)
            blk.CanonicalPath = PathOf(blk);
    }

    /// <summary>
    /// QEMU's qdev_device_add: the driver, the bus (and, for device_add, whether it takes hotplug and
    /// whether the machine allows it now), the id, then the properties in order. Creates nothing on the board.
    /// </summary>
    /// <param name="config">The -device or device_add arguments.</param>
    /// <param name="hotplugGate">For device_add: the machine's refusal for an operation and a node, or null when allowed; null for -device.</param>
    private Device CreateDevice(DeviceConfig config, Func<string, string?, string?>? hotplugGate)
    {
        var driver = config.Driver;
        if (!DeviceCatalog.UserCreatable.Contains(driver))
            throw new MachineOperationException($"'{driver}' is not a valid device model name");
        var bus = ResolveBus(DeviceCatalog.Create(driver)!, Property(config, "bus"));
        if (hotplugGate is not null)
        {
            // Neither pci.0 (no ACPI PCI hotplug here) nor isa.0 has a hotplug handler.
            if (bus is not { Hotpluggable: true })
                throw new MachineOperationException($"Bus '{bus?.Name ?? IsaBusName}' does not support hotplugging");
            if (hotplugGate("device_add", null) is { } refusal)
                throw new MachineOperationException(refusal);
        }
        var id = Property(config, "id");
        if (id is not null && !IsIdentifier(id))
            throw new MachineOperationException("Parameter 'id' expects an identifier");
        if (id is not null && _devices.Any(d => d.Id == id))
            throw new MachineOperationException($"Duplicate device ID '{id}'");
        var device = DeviceCatalog.Create(driver, id)!;
        if (device is PciDevice pci)
            pci.Bus = bus;
        var properties = device.QomProperties().ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var (key, value) in config.Properties)
        {
            switch (key, device)
            {
                case ("id" or "bus", _):
                    break;
                case ("chardev", DebugConsole console):
                    console.Backend = _backendById.GetValueOrDefault(value) ?? throw new MachineOperationException($"Property '{driver}.chardev' can't find value '{value}'");
                    break;
                case ("addr", PciDevice slotted):
                    (slotted.Slot, slotted.Function) = ParsePciAddress(config, value);
                    break;
                // qmpd's virtio devices are modern-only: QEMU's disable-legacy=on form.
                case ("disable-legacy", VirtioPciDevice) when value is "on" or "true":
                case ("disable-modern", VirtioPciDevice) when value is "off" or "false":
                    break;
                case ("disable-legacy" or "disable-modern", VirtioPciDevice):
                    throw new MachineOperationException($"{driver}: only modern virtio (disable-legacy=on, disable-modern=off) is supported");
                default:
                    var property = properties.GetValueOrDefault(key) ?? throw new MachineOperationException($"Property '{driver}.{key}' not found");
                    SetFromText(config, property, value);
                    break;
            }
        }
        return device;
    }

    // The bus a device goes on: PCI devices on pci.0 or a bridge's bus, ISA devices on isa.0 (null here).
    // Root ports plug into pci.0 only in qmpd (QEMU also nests them behind other ports).
    private PciBus? ResolveBus(Device probe, string? name)
    {
        var driver = probe.TypeName;
        var pciBus = name is null ? null : PciBuses().FirstOrDefault(b => b.Name == name);
        if (probe is not PciDevice)
        {
            if (name is null or IsaBusName)
                return null;
            throw new MachineOperationException(pciBus is null ? $"Bus '{name}' not found" : $"Device '{driver}' can't go on {pciBus.TypeName} bus");
        }
        if (name is null)
            return _pci.Bus;
        if (pciBus is null)
            throw new MachineOperationException(name == IsaBusName ? $"Device '{driver}' can't go on ISA bus" : $"Bus '{name}' not found");
        if (probe is PciBridge && !ReferenceEquals(pciBus, _pci.Bus))
            throw new MachineOperationException($"Device '{driver}' can't go on {pciBus.TypeName} bus");
        return pciBus;
    }

    // pci.0 and the buses of the bridges made so far (a -device bus= names a bridge created before it).
    private IEnumerable<PciBus> PciBuses() => _devices.OfType<PciBridge>().Select(b => b.SecondaryBus).Prepend(_pci.Bus);

    /// <summary>
    /// The QOM path QomBuilder gives <paramref name="device"/>: <c>/machine/peripheral/ID</c>, else
    /// <c>/machine/peripheral-anon/device[N]</c> for a user's device or <c>/machine/unattached/device[N]</c>
    /// for the board's, N counting such devices in <see cref="Devices"/> order.
    /// </summary>
    private string PathOf(Device device)
    {
        if (device.Id is { } id)
            return $"/machine/peripheral/{id}";
        var index = _devices.Where(d => d.Id is null && d.UserCreated == device.UserCreated).TakeWhile(d => !ReferenceEquals(d, device)).Count();
        return device.UserCreated ? $"/machine/peripheral-anon/device[{index}]" : $"/machine/unattached/device[{index}]";
    }

    // QEMU's id_wellformed: a letter, then letters, digits, '-', '.' and '_'.
    private static bool IsIdentifier(string id) =>
        id.Length > 0 && char.IsAsciiLetter(id[0]) && id.Skip(1).All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');

    // QEMU's -device value syntax: integers in decimal or 0x hex, booleans on/off.
    private static void SetFromText(DeviceConfig config, QomProperty property, string text)
    {
        // Numbers for integer and size properties, booleans for bool; strings and enums take the text.
        var numeric = property.Type is "size" || property.Type.StartsWith("int", StringComparison.Ordinal) || property.Type.StartsWith("uint", StringComparison.Ordinal);
        JsonNode? value = property.Type == "bool"
            ? text switch { "on" or "true" or "yes" => true, "off" or "false" or "no" => false, _ => null }
            : !numeric ? text
            : text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && long.TryParse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex) ? hex
            : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number
            : null;
        try
        {
            property.Set(value ?? throw new OverflowException());
        }
        catch (Exception e) when (e is MachineOperationException or OverflowException)
        {
            throw new MachineOperationException($"Property '{config.Driver}.{property.Name}' doesn't take value '{text}'");
        }
    }

    // QEMU's addr property: SLOT or SLOT.FN, hexadecimal.
    private static (int Slot, int Function) ParsePciAddress(DeviceConfig config, string text)
    {
        var parts = text.Split('.');
        if (parts.Length is < 1 or > 2
            || !int.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var slot) || slot > 31
            || (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var fn) || fn > 7)))
            throw new MachineOperationException($"Property '{config.Driver}.addr' doesn't take value '{text}'");
        return (slot, parts.Length == 2 ? int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : 0);
    }

    private static string? Property(DeviceConfig config, string key) =>
        config.Properties.FirstOrDefault(p => p.Key == key).Value;
}
