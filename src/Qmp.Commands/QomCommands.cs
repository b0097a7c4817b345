using System.Text.Json.Nodes;
using Qmp.Machine;
using Qmp.Machine.Qom;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>qom.json: qom-list, qom-get, qom-set, qom-list-types over the machine's QOM tree, with QEMU's errors.</summary>
public sealed class QomCommands(Machine.Machine machine) : IQomCommands
{
    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<ObjectPropertyInfo>> QomListAsync(QomListArguments arguments, CancellationToken cancellationToken) =>
        await machine.InvokeAsync(() =>
        {
            var target = Resolve(arguments.Path);
            IReadOnlyList<ObjectPropertyInfo> list = target.List().Select(p => new ObjectPropertyInfo { Name = p.Name, Type = p.Type }).ToList();
            return list;
        }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask<JsonNode?> QomGetAsync(QomGetArguments arguments, CancellationToken cancellationToken) =>
        await machine.InvokeAsync(() => Property(arguments.Path, arguments.Property).Get(), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask QomSetAsync(QomSetArguments arguments, CancellationToken cancellationToken) =>
        await machine.InvokeAsync(() =>
        {
            try
            {
                Property(arguments.Path, arguments.Property).Set(arguments.Value);
            }
            catch (MachineOperationException e)
            {
                throw new QmpErrorException(QmpErrorClass.GenericError, e.Message);
            }
        }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ObjectTypeInfo>> QomListTypesAsync(QomListTypesArguments arguments, CancellationToken cancellationToken)
    {
        IReadOnlyList<ObjectTypeInfo> list = QomTypes.All
            .Where(t => (arguments.Abstract ?? false) || !t.Abstract)
            .Where(t => arguments.Implements is null || QomTypes.Implements(t.Name, arguments.Implements))
            .Select(t => new ObjectTypeInfo { Name = t.Name, Abstract = t.Abstract ? true : null, Parent = t.Parent })
            .ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ObjectPropertyInfo>> DeviceListPropertiesAsync(DeviceListPropertiesArguments arguments, CancellationToken cancellationToken)
    {
        var device = DeviceCatalog.Create(arguments.Typename);
        if (device is null)
        {
            if (QomTypes.All.Any(t => t.Name == arguments.Typename))
                throw new QmpErrorException(QmpErrorClass.GenericError, "Parameter 'typename' expects a non-abstract device type");
            throw new QmpErrorException(QmpErrorClass.DeviceNotFound, $"Device '{arguments.Typename}' not found");
        }
        IReadOnlyList<ObjectPropertyInfo> list = device.QomProperties()
            .Select(p => new ObjectPropertyInfo { Name = p.Name, Type = p.Type, DefaultValue = p.Get() })
            .ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ObjectPropertyInfo>> QomListPropertiesAsync(QomListPropertiesArguments arguments, CancellationToken cancellationToken)
    {
        var name = arguments.Typename;
        if (!QomTypes.All.Any(t => t.Name == name))
            throw new QmpErrorException(QmpErrorClass.DeviceNotFound, $"Class '{name}' not found");
        var list = new List<ObjectPropertyInfo> { new() { Name = "type", Type = "string" } };
        if (QomTypes.Implements(name, "device"))
        {
            list.Add(new() { Name = "realized", Type = "bool" });
            list.Add(new() { Name = "hotplugged", Type = "bool" });
            list.Add(new() { Name = "hotpluggable", Type = "bool" });
            list.AddRange((DeviceCatalog.Create(name)?.QomProperties() ?? []).Select(p => new ObjectPropertyInfo { Name = p.Name, Type = p.Type }));
        }
        else if (QomTypes.Implements(name, "machine"))
        {
            list.Add(new() { Name = "kernel", Type = "string", Description = "Linux kernel image file" });
            list.Add(new() { Name = "initrd", Type = "string", Description = "Linux initial ramdisk file" });
            list.Add(new() { Name = "append", Type = "string", Description = "Linux kernel command line" });
            list.Add(new() { Name = "memory-backend", Type = "link<memory-backend>", Description = "Set RAM backend" });
        }
        else if (QomTypes.Implements(name, "memory-backend"))
        {
            list.Add(new() { Name = "share", Type = "bool", Description = "Mark the memory as private to QEMU or shared" });
            list.Add(new() { Name = "size", Type = "int", Description = "Size of the memory region (ex: 500M)" });
        }
        return ValueTask.FromResult<IReadOnlyList<ObjectPropertyInfo>>(list);
    }

    /// <inheritdoc/>
    public ValueTask ObjectAddAsync(ObjectOptions arguments, CancellationToken cancellationToken)
    {
        var type = arguments.QomType == ObjectType.MemoryBackendMemfd ? "memory-backend-memfd" : "memory-backend-ram";
        var properties = arguments.QomType == ObjectType.MemoryBackendMemfd ? arguments.MemoryBackendMemfd! : arguments.MemoryBackendRam!;
        try
        {
            machine.Objects.CreateMemoryBackend(arguments.Id, type, (long)Math.Min(properties.Size, long.MaxValue), properties.Share);
        }
        catch (MachineOperationException e)
        {
            throw new QmpErrorException(QmpErrorClass.GenericError, e.Message);
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask ObjectDelAsync(ObjectDelArguments arguments, CancellationToken cancellationToken)
    {
        try
        {
            machine.Objects.Delete(arguments.Id);
        }
        catch (MachineOperationException e)
        {
            throw new QmpErrorException(QmpErrorClass.GenericError, e.Message);
        }
        return ValueTask.CompletedTask;
    }

    private QomObject Resolve(string path)
    {
        var target = QomBuilder.Build(machine).Resolve(path, out var ambiguous);
        if (ambiguous)
            throw new QmpErrorException(QmpErrorClass.GenericError, $"Path '{path}' is ambiguous");
        return target ?? throw new QmpErrorException(QmpErrorClass.DeviceNotFound, $"Device '{path}' not found");
    }

    private QomProperty Property(string path, string name)
    {
        var target = Resolve(path);
        return target.Property(name)
            ?? throw new QmpErrorException(QmpErrorClass.GenericError, $"Property '{target.TypeName}.{name}' not found");
    }
}
