namespace Qmp.Monitor.Tests;

// Expected bytes are QEMU 7.2's (qmp-facts.md §1.2, §1.3, §1.10).
public class NegotiationTests
{
    [Fact]
    public async Task Greeting_is_sent_before_the_client_writes()
    {
        await using var h = new SessionHarness();
        Assert.Equal("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"test\"}, \"capabilities\": [\"oob\"]}}\r\n",
            await h.ReceiveRawAsync());
    }

    [Fact]
    public async Task Greeting_offers_no_oob_when_the_monitor_cannot()
    {
        await using var h = new SessionHarness(new QmpMonitorOptions { OfferOob = false });
        Assert.EndsWith("\"capabilities\": []}}", await h.ReceiveAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"execute":"query-status","id":1}""", """{"id": 1, "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}""")]
    [InlineData("""{"execute":"no-such-cmd"}""", """{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}""")]
    [InlineData("""{"exec-oob":"ping-oob","id":2}""", """{"id": 2, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}""")]
    [InlineData("""{"execute":"qmp_capabilities","arguments":{"enable":["foo"]}}""", """{"error": {"class": "GenericError", "desc": "Parameter 'null' does not accept value 'foo'"}}""")]
    [InlineData("{}", """{"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}""")]
    public async Task Before_negotiation_commands_are_refused_like_QEMU(string request, string reply)
    {
        await using var h = new SessionHarness();
        await h.ReceiveAsync();
        await h.SendAsync(request);
        Assert.Equal(reply, await h.ReceiveAsync());
    }

    [Fact]
    public async Task Negotiation_is_accepted_once()
    {
        await using var h = new SessionHarness();
        await h.ReceiveAsync();
        await h.SendAsync("""{"execute":"qmp_capabilities","id":"cap1"}""");
        Assert.Equal("""{"return": {}, "id": "cap1"}""", await h.ReceiveAsync());
        await h.SendAsync("""{"execute":"qmp_capabilities","id":2}""");
        Assert.Equal("""{"id": 2, "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}""", await h.ReceiveAsync());
        Assert.True(h.Session.InCommandMode);
    }

    [Fact]
    public async Task Enabling_oob_where_it_is_not_offered_fails()
    {
        await using var h = new SessionHarness(new QmpMonitorOptions { OfferOob = false });
        await h.ReceiveAsync();
        await h.SendAsync("""{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":1}""");
        Assert.Equal("""{"id": 1, "error": {"class": "GenericError", "desc": "Capability oob not available"}}""", await h.ReceiveAsync());
        Assert.False(h.Session.InCommandMode);
    }

    [Fact]
    public async Task Negotiation_and_a_command_in_one_write_are_both_honoured()
    {
        await using var h = new SessionHarness();
        await h.ReceiveAsync();
        await h.SendAsync("""{"execute":"qmp_capabilities"}{"execute":"query-status","id":1}""");
        Assert.Equal("""{"return": {}}""", await h.ReceiveAsync());
        Assert.Equal("""{"return": {"status": "running", "running": true}, "id": 1}""", await h.ReceiveAsync());
    }

    [Fact]
    public async Task Events_wait_for_negotiation()
    {
        await using var h = new SessionHarness();
        await h.ReceiveAsync();
        h.Emit("STOP");
        await h.SendAsync("""{"execute":"qmp_capabilities"}""");
        Assert.Equal("""{"return": {}}""", await h.ReceiveAsync());
        h.Emit("RESUME");
        Assert.Equal("""{"timestamp": {"seconds": 1795374402, "microseconds": 63000}, "event": "RESUME"}""", await h.ReceiveAsync());
    }
}
