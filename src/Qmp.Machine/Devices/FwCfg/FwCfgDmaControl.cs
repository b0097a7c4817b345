namespace Qmp.Machine.Devices.FwCfg;

/// <summary>Bits of the <c>control</c> field of a FWCfgDmaAccess (docs/specs/fw_cfg.rst); the selector is in bits 16..31.</summary>
internal static class FwCfgDmaControl
{
    public const uint Error = 0x01;
    public const uint Read = 0x02;
    public const uint Skip = 0x04;
    public const uint Select = 0x08;
    public const uint Write = 0x10;
}
