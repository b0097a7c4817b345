using System.Text.Json.Nodes;

namespace Qmp.SchemaGen.Tests;

public class IntrospectionTests
{
    // QEMU 7.2's scripts/qapi/introspect.py on schemas/tiny.json (its two 'if' members removed, which
    // renumbers nothing): commands and events first, then types in order of first use, names masked.
    private const string QemuOutput = """
        [
        {"name":"query-info","meta-type":"command","arg-type":"0","ret-type":"[1]","allow-oob":true,"features":["unstable"]},
        {"name":"do-it","meta-type":"command","arg-type":"2","ret-type":"2"},
        {"name":"THING_HAPPENED","meta-type":"event","arg-type":"3"},
        {"name":"PING","meta-type":"event","arg-type":"2"},
        {"name":"take-alt","meta-type":"command","arg-type":"4","ret-type":"2"},
        {"name":"0","meta-type":"object","members":[{"name":"verbose","type":"bool","default":null}]},
        {"name":"[1]","meta-type":"array","element-type":"1"},
        {"name":"1","meta-type":"object","members":[{"name":"id","type":"str"},{"name":"color","type":"5"},{"name":"count","type":"int","default":null},{"name":"tags","type":"[str]"},{"name":"sizes","type":"[int]","default":null},{"name":"old","type":"bool","features":["deprecated"]}]},
        {"name":"2","meta-type":"object","members":[]},
        {"name":"3","meta-type":"object","members":[{"name":"info","type":"1"},{"name":"why","type":"str","default":null}]},
        {"name":"4","meta-type":"object","members":[{"name":"v","type":"6"}]},
        {"name":"bool","meta-type":"builtin","json-type":"boolean"},
        {"name":"str","meta-type":"builtin","json-type":"string"},
        {"name":"5","meta-type":"enum","members":[{"name":"red"},{"name":"blue","features":["deprecated"]}],"values":["red","blue"]},
        {"name":"int","meta-type":"builtin","json-type":"int"},
        {"name":"[str]","meta-type":"array","element-type":"str"},
        {"name":"[int]","meta-type":"array","element-type":"int"},
        {"name":"6","meta-type":"alternate","members":[{"type":"str"},{"type":"7"}]},
        {"name":"7","meta-type":"object","members":[{"name":"id","type":"str"}]}
        ]
        """;

    [Fact]
    public void Tiny_schema_introspects_exactly_as_QEMU_does()
    {
        var output = Generator.Run(Path.Combine(AppContext.BaseDirectory, "schemas", "tiny.json"));
        var expected = JsonNode.Parse(QemuOutput)!.AsArray();
        Assert.Equal(expected.Count, output.Introspection.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(JsonNode.DeepEquals(expected[i], output.Introspection[i]), $"entry {i}: expected {expected[i]!.ToJsonString()}, got {output.Introspection[i]!.ToJsonString()}");
    }

    [Fact]
    public void Qmpd_schema_starts_like_QEMU_with_query_status_and_the_empty_type()
    {
        var output = Generator.Run(Path.Combine(RepoPaths.Root, "schema", "qapi-schema.json"));
        var first = output.Introspection[0]!;
        Assert.Equal("query-status", first["name"]!.GetValue<string>());
        Assert.Equal("0", first["arg-type"]!.GetValue<string>());
        var capabilities = output.Introspection.First(e => e!["name"]!.GetValue<string>() == "qmp_capabilities")!;
        var argType = capabilities["arg-type"]!.GetValue<string>();
        var args = output.Introspection.First(e => e!["name"]!.GetValue<string>() == argType)!;
        Assert.Equal("enable", args["members"]![0]!["name"]!.GetValue<string>());
        Assert.Null(args["members"]![0]!["default"]);
        Assert.True(args["members"]![0]!.AsObject().ContainsKey("default"));
    }
}
