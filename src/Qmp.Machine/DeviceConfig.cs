using System.Text.Json;

namespace Qmp.Machine;

/// <summary>A <c>-device DRIVER,prop=value,...</c> (or device_add) as written, for the board to create and realize.</summary>
/// <param name="Driver">The QOM type name, e.g. <c>isa-debug-exit</c>.</param>
/// <param name="Properties">Property values as given, in order.</param>
public sealed record DeviceConfig(string Driver, IReadOnlyList<KeyValuePair<string, string>> Properties)
{
    /// <summary>A JSON property value (JSON -device, device_add) in the dotted form's text: strings as they are, booleans on/off.</summary>
    public static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => "on",
        JsonValueKind.False => "off",
        _ => value.GetRawText(),
    };
}
