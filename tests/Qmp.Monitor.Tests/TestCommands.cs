using System.Text.Json.Nodes;
using Qmp.Schema.Runtime;

namespace Qmp.Monitor.Tests;

/// <summary>A command table for protocol tests, independent of any machine.</summary>
internal sealed class TestCommands
{
    public TaskCompletionSource SlowGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<bool> SlowCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Action? DuringEmit { get; set; }

    public QmpCommandTable Table()
    {
        QmpCommandInfo Info(string name, bool oob = false, bool generated = true) => new(name, oob, false, [], generated);
        var infos = new[]
        {
            Info("qmp_capabilities", generated: false), Info("query-status"), Info("echo"), Info("slow"), Info("ping-oob", oob: true),
            Info("fail"), Info("crash"), Info("emit"),
        };
        var handlers = new Dictionary<string, QmpCommandHandler>
        {
            ["query-status"] = (args, ct) => ValueTask.FromResult<JsonNode?>(new JsonObject { ["running"] = true, ["status"] = "running" }),
            ["echo"] = (args, ct) => ValueTask.FromResult<JsonNode?>(args.DeepClone()),
            ["slow"] = async (args, ct) =>
            {
                try
                {
                    await SlowGate.Task.WaitAsync(ct);
                }
                catch (OperationCanceledException)
                {
                    SlowCancelled.TrySetResult(true);
                    throw;
                }
                return new JsonObject { ["slow"] = true };
            },
            ["ping-oob"] = (args, ct) => ValueTask.FromResult<JsonNode?>(new JsonObject { ["pong"] = true }),
            ["fail"] = (args, ct) => throw new QmpErrorException(QmpErrorClass.DeviceNotFound, "Device 'nope' not found"),
            ["crash"] = (args, ct) => throw new InvalidOperationException("boom"),
            ["emit"] = (args, ct) =>
            {
                DuringEmit?.Invoke();
                return ValueTask.FromResult<JsonNode?>(new JsonObject());
            },
        };
        return new QmpCommandTable(infos, handlers);
    }
}
