namespace Qmp.Machine.Devices.FwCfg;

/// <summary>One entry of the <c>etc/e820</c> file: 20 packed little-endian bytes (u64 address, u64 length, u32 type).</summary>
/// <param name="Address">First byte of the range.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Type">1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable.</param>
public readonly record struct FwCfgE820Entry(ulong Address, ulong Length, uint Type)
{
    /// <summary>Usable RAM.</summary>
    public const uint Ram = 1;

    /// <summary>Reserved.</summary>
    public const uint Reserved = 2;

    /// <summary>The size of one entry in the file.</summary>
    public const int Size = 20;
}
