namespace Qmp.Migration.Stream;

/// <summary>One device's saved state as it travels in a SECTION record.</summary>
/// <param name="Name">The section name (IStatefulDevice.SectionName).</param>
/// <param name="Instance">Counts devices with the same name, from 0, in save order (QEMU's instance id).</param>
/// <param name="Version">The state version the device wrote.</param>
/// <param name="Payload">The state bytes.</param>
public sealed record DeviceSection(string Name, int Instance, int Version, byte[] Payload);
