using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qmp.Machine.Qom;

/// <summary>Reads qom-set values with QEMU's type checks and texts.</summary>
public static class QomValues
{
    /// <summary>An unsigned 32-bit integer property value.</summary>
    public static uint UInt32(JsonNode? value, string name)
    {
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) && n is >= 0 and <= uint.MaxValue)
            return (uint)n;
        if (value is JsonValue number && number.GetValueKind() == JsonValueKind.Number)
            throw new MachineOperationException($"Parameter '{name}' expects uint32_t");
        throw new MachineOperationException($"Invalid parameter type for '{name}', expected: integer");
    }
}
