using Qmp.Machine.Devices;

namespace Qmp.Machine.Qom;

/// <summary>
/// Builds the QOM tree QMP shows from the machine's current state, on the machine thread:
/// <c>/objects</c> (memory backends), <c>/machine</c> with <c>peripheral</c> (devices with an
/// id), <c>peripheral-anon</c> and <c>unattached</c> (board devices as <c>device[N]</c>), and
/// <c>/chardevs</c>.
/// </summary>
public static class QomBuilder
{
    public static QomTree Build(Machine machine)
    {
        var config = machine.Config;
        var root = new QomObject("container");
        var objects = root.AddChild("objects", new QomObject("container"));
        foreach (var backend in machine.Objects.List())
        {
            objects.AddChild(backend.Id, new QomObject(backend.TypeName)
                .With(new QomProperty("size", "uint64", () => backend.Size))
                .With(new QomProperty("share", "bool", () => backend.Share)));
        }
        var machineObject = root.AddChild("machine", new QomObject($"{config.MachineType}-machine")
            .With(new QomProperty("kernel", "string", () => config.Kernel ?? ""))
            .With(new QomProperty("append", "string", () => config.Append ?? ""))
            .With(new QomProperty("initrd", "string", () => string.Join(',', config.Initrd)))
            .With(new QomProperty("memory-backend", "link<memory-backend>", () => config.MemoryBackend is { } b ? $"/objects/{b.Id}" : "")));
        var peripheral = machineObject.AddChild("peripheral", new QomObject("container"));
        var peripheralAnon = machineObject.AddChild("peripheral-anon", new QomObject("container"));
        var unattached = machineObject.AddChild("unattached", new QomObject("container"));
        var anonymous = 0;
        var anonymousUser = 0;
        foreach (var device in machine.Board?.Devices ?? [])
        {
            var node = DeviceNode(device);
            if (device.Id is { } id)
                peripheral.AddChild(id, node);
            else if (device.UserCreated)
                peripheralAnon.AddChild($"device[{anonymousUser++}]", node);
            else
                unattached.AddChild($"device[{anonymous++}]", node);
        }
        var chardevs = root.AddChild("chardevs", new QomObject("container"));
        foreach (var chardev in machine.Chardevs.List())
            chardevs.AddChild(chardev.Label, new QomObject(ChardevType(chardev)));
        return new QomTree(root);
    }

    private static QomObject DeviceNode(Device device)
    {
        var node = new QomObject(device.TypeName)
            .With(new QomProperty("realized", "bool", () => device.Realized))
            .With(new QomProperty("hotplugged", "bool", () => device is Devices.Pci.PciDevice { Hotplugged: true }))
            .With(new QomProperty("hotpluggable", "bool", () => device is Devices.Pci.PciDevice));
        foreach (var property in device.QomProperties())
        {
            // Static properties freeze at realize, with QEMU's refusal.
            node.With(new QomProperty(property.Name, property.Type, property.Get, value =>
            {
                if (device.Realized)
                    throw new MachineOperationException(device.AfterRealizeMessage(property.Name));
                property.Set(value);
            }));
        }
        return node;
    }

    private static string ChardevType(Chardev chardev)
    {
        if (chardev.Backend is not null)
            return "chardev-" + chardev.Filename;
        return chardev.Filename == "stdio" ? "chardev-stdio" : "chardev-socket";
    }
}
