using Microsoft.Win32.SafeHandles;
using System.Globalization;
using Qmp.Machine.Sockets;

namespace Qmp.Migration.Channels;

/// <summary>Parses QEMU's migration URIs: <c>tcp:HOST:PORT</c>, <c>unix:PATH</c>, <c>exec:CMD</c>, <c>fd:NAME</c>, <c>file:PATH[,offset=N]</c>.</summary>
public static class MigrationUri
{
    /// <summary>QEMU's refusal of a URI it does not understand.</summary>
    public const string InvalidProtocol = "Parameter 'uri' expects a valid migration protocol";

    /// <summary>Parses <paramref name="uri"/>.</summary>
    /// <param name="uri">The URI.</param>
    /// <param name="resolveFd">
    /// Resolves <c>fd:NAME</c> to a descriptor the migration then owns (QEMU's monitor_fd_param: the monitor's
    /// getfd store, or a number); null when the caller has no descriptors, and <c>fd:</c> is then refused.
    /// </param>
    /// <exception cref="MigrationException">Not a URI qmpd can migrate over, or an unknown descriptor; QEMU's texts.</exception>
    public static MigrationAddress Parse(string uri, Func<string, SafeFileHandle?>? resolveFd = null)
    {
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
            throw new MigrationException(InvalidProtocol);
        var rest = uri[(colon + 1)..];
        switch (uri[..colon])
        {
            case "tcp":
                return ParseInet(rest);
            case "unix":
                return rest.Length > 0 ? SocketMigrationAddress.Unix(rest) : throw new MigrationException("invalid Unix socket address");
            case "exec" when rest.Length > 0:
                return new ExecMigrationAddress(["/bin/sh", "-c", rest]);
            case "file" when rest.Length > 0:
                return ParseFile(rest);
            case "fd" when rest.Length > 0 && resolveFd is not null:
                return new FdMigrationAddress(rest, resolveFd(rest) ?? throw new MigrationException($"File descriptor named '{rest}' has not been found"));
            default:
                throw new MigrationException(InvalidProtocol);
        }
    }

    // host:port, [v6]:port, with QEMU's ",to=N,ipv4,ipv6,keep-alive" options after the port (others are ignored, as QEMU does).
    private static SocketMigrationAddress ParseInet(string text)
    {
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        var options = InetSocketOptions.None;
        if (comma >= 0)
        {
            options = ParseInetOptions(text[comma..]);
            text = text[..comma];
        }
        string host, port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
                throw new MigrationException($"error parsing address '{text}'");
            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
                throw new MigrationException($"error parsing address '{text}'");
            host = text[..colon];
            port = text[(colon + 1)..];
        }
        if (port.Length == 0)
            throw new MigrationException($"error parsing address '{text}'");
        return SocketMigrationAddress.Inet(host, port, options);
    }

    // QEMU's inet_parse: each option is looked for in the text (",to=", ",ipv4"...); a flag is bare, =on or =off.
    private static InetSocketOptions ParseInetOptions(string text)
    {
        var options = InetSocketOptions.None;
        var to = text.IndexOf(",to=", StringComparison.Ordinal);
        if (to >= 0)
        {
            var digits = text[(to + 4)..].Split(',')[0];
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var last) || last > ushort.MaxValue)
                throw new MigrationException("error parsing to= argument");
            options = options with { To = last };
        }
        bool? Flag(string name)
        {
            var at = text.IndexOf("," + name, StringComparison.Ordinal);
            if (at < 0)
                return null;
            var rest = text[(at + name.Length + 1)..];
            var value = rest.Split(',')[0];
            return value switch
            {
                "" or "=on" => true,
                "=off" => false,
                _ => throw new MigrationException($"error parsing '{name}' flag '{rest}'"),
            };
        }
        return options with { Ipv4 = Flag("ipv4"), Ipv6 = Flag("ipv6"), KeepAlive = Flag("keep-alive") };
    }

    private static FileMigrationAddress ParseFile(string text)
    {
        const string option = ",offset=";
        var at = text.LastIndexOf(option, StringComparison.Ordinal);
        if (at < 0)
            return new FileMigrationAddress(text, 0);
        var value = text[(at + option.Length)..];
        var parsed = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var offset)
            : long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        if (!parsed || offset < 0)
            throw new MigrationException($"Parameter 'offset' expects a non-negative integer, got '{value}'");
        return new FileMigrationAddress(text[..at], offset);
    }
}
