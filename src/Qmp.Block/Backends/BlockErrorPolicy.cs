namespace Qmp.Block.Backends;

/// <summary>rerror/werror (QEMU's BlockdevOnError for devices).</summary>
public enum BlockErrorPolicy
{
    /// <summary>report: the guest sees the error.</summary>
    Report,

    /// <summary>ignore: the guest sees success.</summary>
    Ignore,

    /// <summary>enospc: stop on ENOSPC, report anything else (werror's default).</summary>
    Enospc,

    /// <summary>stop: stop on any error.</summary>
    Stop,
}
