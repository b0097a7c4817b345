using System.Text.Json.Nodes;
using Qmp.Schema.Json;

namespace Qmp.Schema.Tests;

// Expected strings are QEMU 7.2's observed output (shared/reference/qmp-facts.md §1).
public class QmpJsonWriterTests
{
    private static string Write(string json, bool pretty = false) => QmpJsonWriter.ToJsonString(Parse(json), pretty);

    private static JsonNode? Parse(string json) => new JsonStreamParser().Feed(System.Text.Encoding.UTF8.GetBytes(json + " "))[0].Value;

    [Theory]
    [InlineData("""{"running":true,"singlestep":false,"status":"running"}""", """{"status": "running", "singlestep": false, "running": true}""")]
    [InlineData("""{"major":7,"minor":2,"micro":22}""", """{"micro": 22, "minor": 2, "major": 7}""")]
    [InlineData("""{"a":[1,2,null],"b":true}""", """{"a": [1, 2, null], "b": true}""")]
    [InlineData("""{"return":{},"id":1}""", """{"return": {}, "id": 1}""")]
    [InlineData("""{"error":{"class":"GenericError","desc":"x"},"id":1}""", """{"id": 1, "error": {"class": "GenericError", "desc": "x"}}""")]
    [InlineData("""{"event":"STOP","timestamp":{"seconds":1,"microseconds":2}}""", """{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}""")]
    public void Members_come_out_in_QDict_order(string input, string expected) => Assert.Equal(expected, Write(input));

    [Theory]
    [InlineData("\"\\u00e9\\ud83d\\ude00\"", "\"\\u00E9\\uD83D\\uDE00\"")]
    [InlineData("\"a\\/b\"", "\"a/b\"")]
    [InlineData("\"tab\\there\\u007f\"", "\"tab\\there\\u007F\"")]
    [InlineData("'single \"quoted\"'", "\"single \\\"quoted\\\"\"")]
    public void Strings_are_ASCII_with_upper_case_escapes(string input, string expected) => Assert.Equal(expected, Write(input));

    [Theory]
    [InlineData("1.5e3", "1500")]
    [InlineData("0.1", "0.10000000000000001")]
    [InlineData("-0", "0")]
    [InlineData("1.5", "1.5")]
    [InlineData("1e20", "1e+20")]
    [InlineData("1e-5", "1.0000000000000001e-05")]
    [InlineData("12345678901234567890", "12345678901234567890")]
    [InlineData("-9223372036854775808", "-9223372036854775808")]
    public void Numbers_are_reprinted_like_QEMU(string input, string expected) => Assert.Equal(expected, Write(input));

    [Fact]
    public void Pretty_mode_indents_by_four_and_breaks_empty_objects()
    {
        Assert.Equal("{\n    \"return\": {\n    }\n}", Write("""{"return":{}}""", pretty: true));
        Assert.Equal("{\n}", Write("{}", pretty: true));
        Assert.Equal("[\n    1,\n    2\n]", Write("[1,2]", pretty: true));
    }
}
