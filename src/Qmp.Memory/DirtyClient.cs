namespace Qmp.Memory;

/// <summary>Who is tracking writes to guest RAM; each client has its own bitmap, as in QEMU.</summary>
public enum DirtyClient
{
    /// <summary>Live migration: pages written since the last sync.</summary>
    Migration = 0,

    /// <summary>Display or device emulation that redraws what changed.</summary>
    Vga = 1,
}
