using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qmp.Machine.Qom;

/// <summary>Reads qom-set values with QEMU's type checks and texts.</summary>
public static class QomValues
{
    /// <summary>An unsigned 32-bit integer property value.</summary>
    public static uint UInt32(JsonNode? value, string name)
    {
        var n = Integer(value, name);
        return n is >= 0 and <= uint.MaxValue ? (uint)n : throw new MachineOperationException($"Parameter '{name}' expects uint32_t");
    }

    /// <summary>A signed 32-bit integer property value.</summary>
    public static int Int32(JsonNode? value, string name)
    {
        var n = Integer(value, name);
        return n is >= int.MinValue and <= int.MaxValue ? (int)n : throw new MachineOperationException($"Parameter '{name}' expects int32_t");
    }

    // Any JSON integer, whatever CLR type the node was built from.
    private static long Integer(JsonNode? value, string name)
    {
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            return long.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new MachineOperationException($"Parameter '{name}' expects an integer");
        }
        throw new MachineOperationException($"Invalid parameter type for '{name}', expected: integer");
    }

    /// <summary>A boolean property value.</summary>
    public static bool Bool(JsonNode? value, string name) =>
        value is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? v.GetValue<bool>()
            : throw new MachineOperationException($"Invalid parameter type for '{name}', expected: boolean");
}
