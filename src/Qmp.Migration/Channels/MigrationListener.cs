using System.Net;
using System.Net.Sockets;

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
        var socket = MigrationConnection.NewSocket(address);
        try
        {
            if (address.Path is { } path && File.Exists(path))
                File.Delete(path);
            if (address.Path is null)
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(MigrationConnection.EndPoint(address));
            socket.Listen(1);
            var bound = address.Path is not null
                ? address
                : SocketMigrationAddress.Inet(((IPEndPoint)socket.LocalEndPoint!).Address.ToString(), ((IPEndPoint)socket.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new MigrationListener(socket, address, bound);
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
