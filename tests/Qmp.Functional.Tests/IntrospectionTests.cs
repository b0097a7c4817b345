using System.Text.Json.Nodes;
using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// libvirt derives its capabilities from query-qmp-schema and query-commands, so the two must
/// agree and the schema must be internally consistent.
/// </summary>
public class IntrospectionTests
{
    [Fact]
    public async Task Schema_and_command_list_agree_and_every_type_reference_resolves()
    {
        await using var machine = new QemuMachine(Qmpd.Binary, ["-S"]);
        await machine.LaunchAsync();
        var schema = (JsonArray)(await machine.Qmp.ExecuteAsync("query-qmp-schema"))!;
        var commands = (JsonArray)(await machine.Qmp.ExecuteAsync("query-commands"))!;

        var byName = schema.ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!.AsObject());
        var schemaCommands = schema.Where(e => e!["meta-type"]!.GetValue<string>() == "command").Select(e => e!["name"]!.GetValue<string>()).ToHashSet();
        var listed = commands.Select(c => c!["name"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(schemaCommands.Order(), listed.Order());
        Assert.Contains("qmp_capabilities", listed);
        Assert.Contains("device_add", listed);
        // libvirt passes -device as JSON when device_add carries json-cli.
        Assert.Contains("json-cli", byName["device_add"]["features"]!.AsArray().Select(f => f!.GetValue<string>()));

        foreach (var entry in schema.Select(e => e!.AsObject()))
        {
            foreach (var key in new[] { "arg-type", "ret-type", "element-type" })
            {
                if (entry[key] is JsonValue reference)
                    Assert.True(byName.ContainsKey(reference.GetValue<string>()), $"{entry["name"]}: {key} {reference} is not defined");
            }
            foreach (var member in entry["members"]?.AsArray() ?? [])
            {
                if (member!["type"] is JsonValue type)
                    Assert.True(byName.ContainsKey(type.GetValue<string>()), $"{entry["name"]}: member type {type} is not defined");
            }
            foreach (var variant in entry["variants"]?.AsArray() ?? [])
                Assert.True(byName.ContainsKey(variant!["type"]!.GetValue<string>()));
        }
        // Every event the daemon can raise is described.
        foreach (var name in new[] { "STOP", "RESUME", "RESET", "SHUTDOWN", "POWERDOWN", "BLOCK_IO_ERROR", "DEVICE_DELETED", "DEVICE_UNPLUG_GUEST_ERROR" })
            Assert.Equal("event", byName[name]["meta-type"]!.GetValue<string>());
        await machine.ShutdownAsync();
    }
}
