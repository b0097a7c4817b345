using Qmp.Machine.Sockets;

namespace Qmp.Migration.Channels;

/// <summary>A stream socket: a unix path, or an inet host and port.</summary>
/// <param name="Path">The unix socket path; null for inet.</param>
/// <param name="Host">The inet host (may be empty: any address when listening).</param>
/// <param name="Port">The inet port, as a string as QEMU carries it.</param>
public sealed record SocketMigrationAddress(string? Path, string? Host, string? Port) : MigrationAddress
{
    /// <summary>A unix socket.</summary>
    public static SocketMigrationAddress Unix(string path) => new(path, null, null);

    /// <summary>A TCP socket, with QEMU's inet <paramref name="options"/>.</summary>
    public static SocketMigrationAddress Inet(string host, string port, InetSocketOptions? options = null) =>
        new(null, host, port) { Options = options ?? InetSocketOptions.None };

    /// <summary>QEMU's inet options (ipv4, ipv6, numeric, to, keep-alive); none for unix.</summary>
    public InetSocketOptions Options { get; init; } = InetSocketOptions.None;

    /// <inheritdoc/>
    public override string Display => Path ?? $"{Host}:{Port}";
}
