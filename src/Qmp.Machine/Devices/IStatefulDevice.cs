namespace Qmp.Machine.Devices;

/// <summary>
/// A device whose state migrates: a named, versioned section (QEMU's VMStateDescription).
/// Save writes the state of the current version; Load accepts that version (and older ones it
/// knows) and throws <see cref="InvalidDataException"/> naming the section on anything else.
/// </summary>
public interface IStatefulDevice
{
    /// <summary>The section name in the migration stream, e.g. <c>serial</c>.</summary>
    string SectionName { get; }

    /// <summary>The version Save writes.</summary>
    int StateVersion { get; }

    /// <summary>Writes the device state.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores state written by <see cref="SaveState"/> at <paramref name="version"/>.</summary>
    void LoadState(BinaryReader reader, int version);
}
