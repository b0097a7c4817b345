namespace Qmp.Machine;

/// <summary>A <c>-device DRIVER,prop=value,...</c> as written, for the board to create and realize.</summary>
/// <param name="Driver">The QOM type name, e.g. <c>isa-debug-exit</c>.</param>
/// <param name="Properties">Property values as given, in order.</param>
public sealed record DeviceConfig(string Driver, IReadOnlyList<KeyValuePair<string, string>> Properties);
