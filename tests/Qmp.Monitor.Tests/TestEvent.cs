using System.Text.Json.Nodes;
using Qmp.Schema.Runtime;

namespace Qmp.Monitor.Tests;

internal sealed class TestEvent(string name, JsonObject? data = null) : IQmpEvent
{
    public string EventName => name;

    public JsonObject? DataToJson() => data?.DeepClone().AsObject();
}
