namespace Qmp.Machine.Devices.FwCfg;

/// <summary>One entry of the fw_cfg file directory (item 0x19).</summary>
/// <param name="Name">The file name, e.g. <c>etc/e820</c>.</param>
/// <param name="Select">The selector key that reads it (0x20 + its index in name order).</param>
/// <param name="Size">Its size in bytes.</param>
public sealed record FwCfgFile(string Name, ushort Select, int Size);
