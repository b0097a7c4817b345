namespace Qmp.Machine.Devices.FwCfg;

/// <summary>A <c>-fw_cfg</c> option resolved to its file: name, contents and QEMU's warning, if any.</summary>
internal sealed record FwCfgUserFile(string Name, byte[] Data, string? Warning);
