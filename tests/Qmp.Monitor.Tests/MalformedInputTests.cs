using System.Text;

namespace Qmp.Monitor.Tests;

// The table of qmp-facts.md §1.6, QEMU 7.2's exact replies.
public class MalformedInputTests
{
    [Theory]
    [InlineData("[1,2,3]", """{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}""")]
    [InlineData("\"hello\"", """{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}""")]
    [InlineData("{}", """{"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}""")]
    [InlineData("""{"arguments":{},"id":10}""", """{"id": 10, "error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}""")]
    [InlineData("""{"execute":42,"id":11}""", """{"id": 11, "error": {"class": "GenericError", "desc": "QMP input member 'execute' must be a string"}}""")]
    [InlineData("""{"execute":"query-status","arguments":[1],"id":12}""", """{"id": 12, "error": {"class": "GenericError", "desc": "QMP input member 'arguments' must be an object"}}""")]
    [InlineData("""{"execute":"query-status","arguments":null,"id":12}""", """{"id": 12, "error": {"class": "GenericError", "desc": "QMP input member 'arguments' must be an object"}}""")]
    [InlineData("""{"execute":"query-status","foo":1,"id":9}""", """{"id": 9, "error": {"class": "GenericError", "desc": "QMP input member 'foo' is unexpected"}}""")]
    [InlineData("{bad json}", """{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'bad'"}}""")]
    [InlineData("{ \"execute\": }", """{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}""")]
    [InlineData("""{"execute":"query-name","id":20,"id":21}""", """{"error": {"class": "GenericError", "desc": "JSON parse error, duplicate key"}}""")]
    [InlineData("""{"execute":"no-such-cmd","id":7}""", """{"id": 7, "error": {"class": "CommandNotFound", "desc": "The command no-such-cmd has not been found"}}""")]
    [InlineData("""{"execute":"query-status","exec-oob":"query-status","id":3}""", """{"id": 3, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}""")]
    [InlineData("""{"execute":"query-status","control":{},"id":4}""", """{"id": 4, "error": {"class": "GenericError", "desc": "QMP input member 'control' is unexpected"}}""")]
    public async Task Malformed_requests_get_QEMUs_replies(string request, string reply)
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync(request + "\n");
        Assert.Equal(reply, await h.ReceiveAsync());
    }

    [Fact]
    public async Task Stray_bytes_are_reported_and_the_stream_recovers()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync([0xFF]);
        Assert.Equal("""{"error": {"class": "GenericError", "desc": "JSON parse error, stray '\uFFFD'"}}""", await h.ReceiveAsync());
        await h.SendAsync([0x00]);
        Assert.Equal("""{"error": {"class": "GenericError", "desc": "JSON parse error, stray ''"}}""", await h.ReceiveAsync());
        await h.SendAsync("""{"execute":"query-status","id":1}""");
        Assert.Equal("""{"return": {"status": "running", "running": true}, "id": 1}""", await h.ReceiveAsync());
    }

    [Fact]
    public async Task Ids_of_any_type_are_echoed_reserialised()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        foreach (var (id, echoed) in new[]
        {
            ("{\"a\":[1,2,null],\"b\":true}", "{\"a\": [1, 2, null], \"b\": true}"),
            ("1.5e3", "1500"),
            ("0.1", "0.10000000000000001"),
            ("-0", "0"),
            ("\"a\\/b\"", "\"a/b\""),
            ("12345678901234567890", "12345678901234567890"),
            ("null", "null"),
            ("\"\\u00e9\\ud83d\\ude00\"", "\"\\u00E9\\uD83D\\uDE00\""),
        })
        {
            await h.SendAsync($"{{\"execute\":\"echo\",\"id\":{id}}}");
            Assert.Equal($"{{\"return\": {{}}, \"id\": {echoed}}}", await h.ReceiveAsync());
        }
    }

    [Fact]
    public async Task Single_quoted_requests_are_accepted()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync("{'execute':'echo','arguments':{'it\\'s':1}}");
        Assert.Equal("""{"return": {"it's": 1}}""", await h.ReceiveAsync());
    }

    [Fact]
    public async Task Output_is_pure_ASCII_with_CRLF()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync(Encoding.UTF8.GetBytes("{\"execute\":\"echo\",\"arguments\":{\"k\":\"é\"}}"));
        Assert.Equal("{\"return\": {\"k\": \"\\u00E9\"}}\r\n", await h.ReceiveRawAsync());
    }
}
