namespace Qmp.Migration.Channels;

/// <summary>A stream socket: a unix path, or an inet host and port.</summary>
/// <param name="Path">The unix socket path; null for inet.</param>
/// <param name="Host">The inet host (may be empty: any address when listening).</param>
/// <param name="Port">The inet port, as a string as QEMU carries it.</param>
public sealed record SocketMigrationAddress(string? Path, string? Host, string? Port) : MigrationAddress
{
    /// <summary>A unix socket.</summary>
    public static SocketMigrationAddress Unix(string path) => new(path, null, null);

    /// <summary>A TCP socket.</summary>
    public static SocketMigrationAddress Inet(string host, string port) => new(null, host, port);

    /// <inheritdoc/>
    public override string Display => Path ?? $"{Host}:{Port}";
}
