namespace Qmp.Daemon;

/// <summary>A <c>-chardev</c> (or the chardev behind <c>-qmp</c>) as written on the command line.</summary>
internal sealed record ChardevSpec
{
    public required string Id { get; init; }

    /// <summary><c>socket</c>, <c>stdio</c>, <c>null</c>, <c>file</c> or <c>ringbuf</c>.</summary>
    public required string Backend { get; init; }

    public string? Path { get; init; }

    public string? Host { get; init; }

    public int? Port { get; init; }

    public int? Fd { get; init; }

    /// <summary>A ringbuf's size in bytes.</summary>
    public int Size { get; init; } = 65536;

    public bool Server { get; init; }

    /// <summary>QEMU's <c>wait</c>: for a server, block start-up until the first client connects.</summary>
    public bool Wait { get; init; } = true;
}
