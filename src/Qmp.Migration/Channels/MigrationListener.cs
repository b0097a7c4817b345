using System.Net;
using System.Net.Sockets;
using Qmp.Machine.Sockets;

namespace Qmp.Migration.Channels;

/// <summary>
/// The destination's listening socket: bound when the incoming migration is set up (so a bad address fails
/// <c>migrate-incoming</c> or start-up at once), one connection accepted, then closed.
/// </summary>
internal sealed class MigrationListener : IDisposable
{
    private readonly Socket _socket;
    private readonly SocketMigrationAddress _address;

    private MigrationListener(Socket socket, SocketMigrationAddress address, SocketMigrationAddress bound)
    {
        _socket = socket;
        _address = address;
        Bound = bound;
    }

    /// <summary>The real address (a TCP port 0 replaced by the port the kernel chose): query-migrate's socket-address.</summary>
    public SocketMigrationAddress Bound { get; }

    /// <summary>Binds and listens on <paramref name="address"/>.</summary>
    /// <exception cref="MigrationException">The address cannot be bound; QEMU's text.</exception>
    public static MigrationListener Listen(SocketMigrationAddress address)
    {
        if (address.Path is null)
            return ListenInet(address);
        var endpoint = MigrationConnection.EndPoint(address);
        var socket = MigrationConnection.NewSocket(endpoint);
        try
        {
            if (File.Exists(address.Path))
                File.Delete(address.Path);
            socket.Bind(endpoint);
            socket.Listen(1);
            return new MigrationListener(socket, address, address);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new MigrationException($"Failed to bind socket: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // A TCP listener with QEMU's inet options (a port range, the address family); Bound has the port it took.
    private static MigrationListener ListenInet(SocketMigrationAddress address)
    {
        Socket socket;
        try
        {
            socket = address.Options.Listen(address.Host ?? "", MigrationConnection.Port(address), 1);
        }
        catch (SocketAddressException e)
        {
            throw new MigrationException(e.Message, e);
        }
        try
        {
            MigrationConnection.Tune(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new MigrationException($"Failed to listen on socket: {e.Message}", e);
        }
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var bound = SocketMigrationAddress.Inet(local.Address.ToString(), local.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new MigrationListener(socket, address, bound);
    }

    /// <summary>Waits for the source to connect.</summary>
    public MigrationConnection Accept(CancellationToken cancellationToken)
    {
        var accepted = _socket.AcceptAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
        return MigrationConnection.Accepted(accepted);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _socket.Dispose();
        if (_address.Path is { } path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Someone else's file by now, or gone.
            }
        }
    }
}
