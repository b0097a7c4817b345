using System.Text.Json;
using System.Text.Json.Nodes;
using Qmp.Machine;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>
/// qdev.json: device_add (hand-written: its arguments are the driver's properties) and device_del, over the
/// machine's hotplug path. Failures carry QEMU's texts; a device_add that fails leaves no trace.
/// </summary>
public sealed class QdevCommands(Machine.Machine machine) : IQdevCommands
{
    private static readonly IReadOnlySet<string> _common = new HashSet<string>(StringComparer.Ordinal) { "driver", "bus", "id" };

    /// <summary>device_add: <c>driver</c>, optional <c>bus</c> and <c>id</c>, then any driver properties.</summary>
    public async ValueTask<JsonNode?> DeviceAddAsync(JsonObject arguments, CancellationToken cancellationToken)
    {
        if (!arguments.TryGetPropertyValue("driver", out var driverNode))
            throw QapiInput.Missing("driver");
        var driver = QapiInput.Str(driverNode, "driver");
        var properties = new List<KeyValuePair<string, string>>();
        foreach (var name in (string[])["bus", "id"])
        {
            if (arguments.TryGetPropertyValue(name, out var value))
                properties.Add(new(name, QapiInput.Str(value, name)));
        }
        foreach (var (name, value) in arguments)
        {
            if (_common.Contains(name))
                continue;
            if (value is JsonObject or JsonArray)
                throw QmpErrorException.Generic($"Property '{driver}.{name}' doesn't take value '{value.ToJsonString()}'");
            properties.Add(new(name, value is null ? "null" : DeviceConfig.Text(JsonSerializer.SerializeToElement(value))));
        }
        await Run(() => machine.DeviceAddAsync(new DeviceConfig(driver, properties), cancellationToken)).ConfigureAwait(false);
        return new JsonObject();
    }

    /// <inheritdoc/>
    public ValueTask DeviceDelAsync(DeviceDelArguments arguments, CancellationToken cancellationToken) =>
        Run(() => machine.DeviceDelAsync(arguments.Id, cancellationToken));

    private static async ValueTask Run(Func<Task> operation)
    {
        try
        {
            await operation().ConfigureAwait(false);
        }
        catch (DeviceNotFoundException e)
        {
            throw new QmpErrorException(QmpErrorClass.DeviceNotFound, e.Message);
        }
        catch (MachineOperationException e)
        {
            throw QmpErrorException.Generic(e.Message);
        }
    }
}
