namespace Qmp.Machine.Devices.Pc;

/// <summary>Helpers shared by the PC devices' state sections.</summary>
internal static class StateSections
{
    /// <summary>Refuses a version the device does not know, naming the section as IStatefulDevice requires.</summary>
    public static void CheckVersion(string section, int version, int current)
    {
        if (version < 1 || version > current)
            throw new InvalidDataException($"section '{section}': unsupported version {version} (this build reads 1..{current})");
    }
}
