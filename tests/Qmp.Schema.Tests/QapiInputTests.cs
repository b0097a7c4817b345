using System.Text.Json.Nodes;
using Qmp.Schema.Runtime;

namespace Qmp.Schema.Tests;

// Texts are QEMU's QObject input visitor's (qmp-facts.md §1.3/§1.4).
public class QapiInputTests
{
    private static string Error(Action action) => Assert.Throws<QmpErrorException>(action).Message;

    [Fact]
    public void Unknown_capability_names_the_parameter_null() =>
        Assert.Equal("Parameter 'null' does not accept value 'foo'",
            Error(() => QmpCapabilitiesArguments.FromJson(new JsonObject { ["enable"] = new JsonArray("foo") })));

    [Fact]
    public void Type_errors_in_lists_use_the_full_path() =>
        Assert.Equal("Invalid parameter type for 'enable[0]', expected: string",
            Error(() => QmpCapabilitiesArguments.FromJson(new JsonObject { ["enable"] = new JsonArray(1) })));

    [Fact]
    public void Missing_and_unexpected_parameters_are_named()
    {
        Assert.Equal("Parameter 'command-line' is missing", Error(() => HumanMonitorCommandArguments.FromJson(new JsonObject())));
        Assert.Equal("Parameter 'foo' is unexpected",
            Error(() => HumanMonitorCommandArguments.FromJson(new JsonObject { ["command-line"] = "x", ["foo"] = 1 })));
    }

    [Fact]
    public void A_missing_member_is_reported_before_an_unexpected_one() =>
        Assert.Equal("Parameter 'command-line' is missing", Error(() => HumanMonitorCommandArguments.FromJson(new JsonObject { ["foo"] = 1 })));

    [Fact]
    public void Integers_refuse_fractions() =>
        Assert.Equal("Invalid parameter type for 'cpu-index', expected: integer",
            Error(() => HumanMonitorCommandArguments.FromJson(new JsonObject { ["command-line"] = "x", ["cpu-index"] = 1.0 })));

    [Fact]
    public void Optional_members_given_null_are_type_errors() =>
        Assert.Equal("Invalid parameter type for 'cpu-index', expected: integer",
            Error(() => HumanMonitorCommandArguments.FromJson(new JsonObject { ["command-line"] = "x", ["cpu-index"] = null })));

    [Fact]
    public void Sized_integers_report_range_errors_with_the_bare_name() =>
        Assert.Equal("Parameter 'x' expects uint8_t", Error(() => QapiInput.SizedUInt(JsonValue.Create(-1L), "a.x", "x", byte.MaxValue, "uint8_t")));

    [Fact]
    public void Generated_types_round_trip()
    {
        var info = new StatusInfo { Running = true, Status = RunState.Running };
        var copy = StatusInfo.FromJson(info.ToJson());
        Assert.Equal(info.Status, copy.Status);
        Assert.Equal(info.Running, copy.Running);
    }

    [Fact]
    public void Union_members_are_flattened_and_checked()
    {
        var json = JsonNode.Parse("""{"name":"q","meta-type":"command","arg-type":"0","ret-type":"1","allow-oob":true}""");
        var info = SchemaInfo.FromJson(json);
        Assert.Equal("0", info.Command!.ArgType);
        Assert.True(info.Command.AllowOob);
        Assert.Equal("Parameter 'json-type' is unexpected",
            Error(() => SchemaInfo.FromJson(JsonNode.Parse("""{"name":"q","meta-type":"command","arg-type":"0","ret-type":"1","json-type":"int"}"""))));
    }
}
