namespace Qmp.Daemon;

/// <summary>A <c>-chardev</c> (or the chardev behind <c>-qmp</c>) as written on the command line.</summary>
internal sealed record ChardevSpec
{
    public required string Id { get; init; }

    /// <summary><c>socket</c> or <c>stdio</c>.</summary>
    public required string Backend { get; init; }

    public string? Path { get; init; }

    public string? Host { get; init; }

    public int? Port { get; init; }

    public int? Fd { get; init; }

    public bool Server { get; init; }

    /// <summary>QEMU's <c>wait</c>: for a server, block start-up until the first client connects.</summary>
    public bool Wait { get; init; } = true;
}
