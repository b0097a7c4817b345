using System.Text.Json.Nodes;

namespace Qmp.Monitor.Tests;

public class DispatchTests
{
    [Fact]
    public async Task Pipelined_commands_are_answered_in_order()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        var batch = string.Concat(Enumerable.Range(1, 50).Select(i => $"{{\"execute\":\"query-status\",\"id\":{i}}}"));
        await h.SendAsync(batch);
        for (var i = 1; i <= 50; i++)
            Assert.Equal($"{{\"return\": {{\"status\": \"running\", \"running\": true}}, \"id\": {i}}}", await h.ReceiveAsync());
    }

    [Fact]
    public async Task In_band_commands_run_one_at_a_time()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync("""{"execute":"slow","id":1}{"execute":"query-status","id":2}""");
        var first = h.ReceiveAsync();
        await Task.Delay(200);
        Assert.False(first.IsCompleted, "the command behind a running one must wait");
        h.Commands.SlowGate.SetResult();
        Assert.Equal("""{"return": {"slow": true}, "id": 1}""", await first);
        Assert.Equal("""{"return": {"status": "running", "running": true}, "id": 2}""", await h.ReceiveAsync());
    }

    [Fact]
    public async Task A_reply_is_not_held_back_behind_a_slow_command()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync("""{"execute":"query-status","id":1}{"execute":"slow","id":2}""");
        Assert.Equal("""{"return": {"status": "running", "running": true}, "id": 1}""", await h.ReceiveAsync());
        h.Commands.SlowGate.SetResult();
        Assert.Equal("""{"return": {"slow": true}, "id": 2}""", await h.ReceiveAsync());
    }

    [Fact]
    public async Task Out_of_band_commands_overtake_a_running_command()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync(oob: true);
        await h.SendAsync("""{"execute":"slow","id":"a"}{"execute":"query-status","id":"b"}{"exec-oob":"ping-oob","id":"c"}""");
        Assert.Equal("""{"return": {"pong": true}, "id": "c"}""", await h.ReceiveAsync());
        h.Commands.SlowGate.SetResult();
        Assert.Equal("""{"return": {"slow": true}, "id": "a"}""", await h.ReceiveAsync());
        Assert.Equal("""{"return": {"status": "running", "running": true}, "id": "b"}""", await h.ReceiveAsync());
    }

    [Theory]
    [InlineData("""{"exec-oob":"query-status","id":1}""", """{"id": 1, "error": {"class": "GenericError", "desc": "The command query-status does not support OOB"}}""")]
    [InlineData("""{"exec-oob":"nope","id":1}""", """{"id": 1, "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}""")]
    [InlineData("""{"execute":"query-status","exec-oob":"ping-oob","id":1}""", """{"id": 1, "error": {"class": "GenericError", "desc": "QMP input member 'execute' clashes with 'exec-oob'"}}""")]
    [InlineData("""{"exec-oob":"ping-oob"}""", """{"return": {"pong": true}}""")]
    public async Task Out_of_band_requests_are_checked_like_QEMU(string request, string reply)
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync(oob: true);
        await h.SendAsync(request);
        Assert.Equal(reply, await h.ReceiveAsync());
    }

    [Fact]
    public async Task Error_classes_pass_through_and_unexpected_failures_are_reported()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync("""{"execute":"fail","id":1}{"execute":"crash","id":2}{"execute":"query-status","id":3}""");
        Assert.Equal("""{"id": 1, "error": {"class": "DeviceNotFound", "desc": "Device 'nope' not found"}}""", await h.ReceiveAsync());
        Assert.Equal("""{"id": 2, "error": {"class": "GenericError", "desc": "Internal error: boom"}}""", await h.ReceiveAsync());
        Assert.StartsWith("""{"return": """, await h.ReceiveAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_raised_by_a_command_come_before_its_reply()
    {
        await using var h = new SessionHarness();
        h.Commands.DuringEmit = () => h.Emit("RESET", new JsonObject { ["guest"] = false, ["reason"] = "host-qmp-system-reset" });
        await h.NegotiateAsync();
        await h.SendAsync("""{"execute":"emit","id":7}""");
        Assert.Equal("""{"timestamp": {"seconds": 1795374402, "microseconds": 63000}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}""", await h.ReceiveAsync());
        Assert.Equal("""{"return": {}, "id": 7}""", await h.ReceiveAsync());
    }

    [Fact]
    public async Task Pretty_monitors_indent_and_end_every_line_with_CRLF()
    {
        await using var h = new SessionHarness(new QmpMonitorOptions { Pretty = true });
        var greeting = await h.ReceivePrettyAsync();
        Assert.StartsWith("{\r\n    \"QMP\": {\r\n        \"version\": {", greeting, StringComparison.Ordinal);
        await h.SendAsync("""{"execute":"qmp_capabilities"}""");
        Assert.Equal("{\r\n    \"return\": {\r\n    }\r\n}\r\n", await h.ReceivePrettyAsync());
    }

    [Fact]
    public async Task A_client_that_never_reads_does_not_block_events()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        var payload = new JsonObject { ["blob"] = new string('x', 4096) };
        // 20 MiB of events to a client that reads none: Emit returns every time, and what does
        // not fit the 4 MiB backlog is dropped instead of queued.
        for (var i = 0; i < 5000; i++)
            h.Emit("BIG", payload);
        Assert.True(h.Session.DroppedEvents > 0);
    }

    [Fact]
    public async Task Disconnect_mid_command_cancels_it_and_ends_the_session()
    {
        var h = new SessionHarness(new QmpMonitorOptions { DisconnectGrace = TimeSpan.FromMilliseconds(200) });
        await h.NegotiateAsync();
        await h.SendAsync("""{"execute":"slow","id":1}""");
        await Task.Delay(100);
        await h.DisposeAsync();
        Assert.True(await h.Commands.SlowCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(h.Run.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Closing_the_session_lets_the_running_command_answer_first()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync("""{"execute":"slow","id":1}""");
        await Task.Delay(100);
        h.Session.BeginClose();
        h.Commands.SlowGate.SetResult();
        Assert.Equal("""{"return": {"slow": true}, "id": 1}""", await h.ReceiveAsync());
        Assert.True(await h.ClosedAsync());
    }

    [Fact]
    public async Task Arguments_must_match_a_command_without_parameters()
    {
        await using var h = new SessionHarness();
        await h.NegotiateAsync();
        await h.SendAsync("""{"execute":"echo","arguments":{"x":{"y":[1]}},"id":8}""");
        Assert.Equal("""{"return": {"x": {"y": [1]}}, "id": 8}""", await h.ReceiveAsync());
    }
}
