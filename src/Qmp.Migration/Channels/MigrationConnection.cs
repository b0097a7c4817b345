using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Qmp.Machine.Sockets;

namespace Qmp.Migration.Channels;

/// <summary>
/// One open migration channel: the stream the migration data flows through and, for a socket, the return
/// path the destination answers on. <see cref="Abort"/> unblocks any read or write in progress (cancel).
/// </summary>
internal sealed class MigrationConnection : IDisposable
{
    private readonly Socket? _socket;
    private readonly Process? _process;
    private int _disposed;

    private MigrationConnection(System.IO.Stream data, Socket? socket, Process? process)
    {
        Data = data;
        _socket = socket;
        _process = process;
    }

    /// <summary>The migration data: written by the source, read by the destination.</summary>
    public System.IO.Stream Data { get; }

    /// <summary>Whether the other side can answer on <see cref="Data"/> (sockets only).</summary>
    public bool HasReturnPath => _socket is not null;

    /// <summary>Opens the source's end of <paramref name="address"/>.</summary>
    /// <exception cref="MigrationException">Cannot connect, run or open; QEMU's text.</exception>
    public static MigrationConnection Connect(MigrationAddress address, CancellationToken cancellationToken)
    {
        switch (address)
        {
            case SocketMigrationAddress socket:
                var endpoint = EndPoint(socket);
                var s = NewSocket(endpoint);
                try
                {
                    s.ConnectAsync(endpoint, cancellationToken).AsTask().GetAwaiter().GetResult();
                    socket.Options.Apply(s);
                }
                catch (SocketException e)
                {
                    s.Dispose();
                    throw new MigrationException($"Failed to connect to '{socket.Display}': {ConnectError(socket, e)}", e);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
                return new MigrationConnection(SocketData(s), s, null);
            case ExecMigrationAddress exec:
                var process = StartProcess(exec, redirectInput: true);
                return new MigrationConnection(process.StandardInput.BaseStream, null, process);
            case FdMigrationAddress fd:
                return FromDescriptor(fd, FileAccess.Write);
            case FileMigrationAddress file:
                try
                {
                    var stream = new FileStream(file.Path, file.Offset == 0 ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
                    if (file.Offset > 0)
                    {
                        stream.SetLength(file.Offset);
                        stream.Position = file.Offset;
                    }
                    return new MigrationConnection(stream, null, null);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new MigrationException($"Could not open '{file.Path}': {e.Message}", e);
                }
            default:
                throw new MigrationException(MigrationUri.InvalidProtocol);
        }
    }

    /// <summary>The destination's end of an accepted socket.</summary>
    public static MigrationConnection Accepted(Socket socket)
    {
        Tune(socket);
        return new MigrationConnection(SocketData(socket), socket, null);
    }

    /// <summary>A connected socket's data stream: unbuffered, over a blocking duplicate of its descriptor.</summary>
    internal static System.IO.Stream SocketData(Socket socket) => new FileStream(DescriptorMode.DuplicateBlocking(socket), FileAccess.ReadWrite, 1);

    /// <summary>The destination's end of an exec channel: the command's stdout.</summary>
    public static MigrationConnection FromCommand(ExecMigrationAddress exec)
    {
        var process = StartProcess(exec, redirectInput: false);
        return new MigrationConnection(process.StandardOutput.BaseStream, null, process);
    }

    /// <summary>
    /// Either end of an <c>fd:</c> channel (a socket, a pipe or a file) as a plain stream, without a return
    /// path, as QEMU's fd: channel. The channel owns the descriptor from now on.
    /// </summary>
    public static MigrationConnection FromDescriptor(FdMigrationAddress fd, FileAccess access)
    {
        DescriptorMode.MakeBlocking(fd.Handle);
        return new(new FileStream(fd.Handle, access, 1), null, null);
    }

    /// <summary>The destination's end of a file channel.</summary>
    /// <exception cref="MigrationException">The file cannot be opened.</exception>
    public static MigrationConnection FromFile(FileMigrationAddress file)
    {
        try
        {
            var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            stream.Position = file.Offset;
            return new MigrationConnection(stream, null, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MigrationException($"Could not open '{file.Path}': {e.Message}", e);
        }
    }

    /// <summary>A stream socket for <paramref name="endpoint"/>, unix or TCP (tuned for migration).</summary>
    public static Socket NewSocket(EndPoint endpoint)
    {
        if (endpoint is UnixDomainSocketEndPoint)
            return new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        Tune(socket);
        return socket;
    }

    /// <summary>The endpoint a source connects to; an empty host is any address.</summary>
    /// <exception cref="MigrationException">The port or host is not valid.</exception>
    public static EndPoint EndPoint(SocketMigrationAddress address)
    {
        if (address.Path is { } path)
            return new UnixDomainSocketEndPoint(path);
        var port = Port(address);
        try
        {
            return new IPEndPoint(address.Options.Resolve(address.Host ?? "", port, passive: false), port);
        }
        catch (SocketAddressException e)
        {
            throw new MigrationException(e.Message, e);
        }
    }

    /// <summary>The TCP port of <paramref name="address"/>.</summary>
    /// <exception cref="MigrationException">Not a port number.</exception>
    public static int Port(SocketMigrationAddress address) =>
        int.TryParse(address.Port, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= IPEndPoint.MaxPort
            ? port
            : throw new MigrationException($"Failed to parse port '{address.Port}'");

    /// <summary>Reads the destination's answer after the stream: null when it loaded, else its reason.</summary>
    /// <exception cref="MigrationException">The return path closed without an answer.</exception>
    public string? ReadAnswer()
    {
        var tag = Data.ReadByte();
        if (tag == Stream.MigrationFormat.AckOk)
            return null;
        if (tag != Stream.MigrationFormat.AckError)
            throw new MigrationException("the destination closed the connection without confirming the migration");
        using var reader = new BinaryReader(Data, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            return Stream.MigrationReader.ReadString(reader);
        }
        catch (EndOfStreamException)
        {
            return "the destination refused the migration";
        }
    }

    /// <summary>
    /// The source's view of a failed write or read: the destination's reason when it sent one (it refused),
    /// else QEMU's text for the broken channel.
    /// </summary>
    public string DescribeFailure(Exception e)
    {
        if (HasReturnPath)
        {
            try
            {
                // The destination writes its reason before it closes; it may already be waiting in our buffer.
                if (_socket!.Poll(TimeSpan.FromSeconds(1), SelectMode.SelectRead) && Data.ReadByte() == Stream.MigrationFormat.AckError)
                {
                    using var reader = new BinaryReader(Data, System.Text.Encoding.UTF8, leaveOpen: true);
                    return $"the destination refused the migration: {Stream.MigrationReader.ReadString(reader)}";
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // No reason came: report the broken channel.
            }
        }
        var inner = e is IOException { InnerException: SocketException socketError } ? socketError.Message : e.Message;
        return _socket is not null ? $"Unable to write to socket: {inner}" : $"Unable to write to {(_process is not null ? "command" : "file")}: {inner}";
    }

    /// <summary>Sends the destination's answer on the return path (sockets only; ignored otherwise).</summary>
    public void Answer(string? error)
    {
        if (!HasReturnPath)
            return;
        try
        {
            if (error is null)
            {
                Data.WriteByte(Stream.MigrationFormat.AckOk);
            }
            else
            {
                using var writer = new BinaryWriter(Data, System.Text.Encoding.UTF8, leaveOpen: true);
                writer.Write(Stream.MigrationFormat.AckError);
                Stream.MigrationWriter.WriteString(writer, error.Length > 4000 ? error[..4000] : error);
            }
            Data.Flush();
            _socket!.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The source is gone; nobody is left to tell.
        }
    }

    /// <summary>Closes the channel at once, failing any read or write in progress.</summary>
    public void Abort()
    {
        try
        {
            _socket?.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            Data.Dispose();
        }
        catch (IOException)
        {
            // A broken pipe on the final flush: the migration already knows how it ended.
        }
        _socket?.Dispose();
        if (_process is { } process)
        {
            // The command sees end-of-file (or its output is no longer read) and ends on its own.
            _ = process.WaitForExitAsync().ContinueWith(_ => process.Dispose(), TaskScheduler.Default);
        }
    }

    // The strerror text QEMU shows: .NET reports a missing unix socket path as "address not available".
    private static string ConnectError(SocketMigrationAddress address, SocketException e) =>
        address.Path is { } path && !File.Exists(path) ? "No such file or directory" : e.Message;

    private static Process StartProcess(ExecMigrationAddress exec, bool redirectInput)
    {
        if (exec.Args.Count == 0)
            throw new MigrationException("exec migration needs a command");
        var info = new ProcessStartInfo(exec.Args[0])
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = !redirectInput,
            UseShellExecute = false,
        };
        foreach (var arg in exec.Args.Skip(1))
            info.ArgumentList.Add(arg);
        try
        {
            return Process.Start(info) ?? throw new MigrationException($"Failed to run '{exec.Display}'");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new MigrationException($"Failed to run '{exec.Display}': {e.Message}", e);
        }
    }

    /// <summary>Socket settings for a migration stream: no Nagle delay on TCP, 4 MiB buffers.</summary>
    internal static void Tune(Socket socket)
    {
        if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            socket.NoDelay = true;
        socket.SendBufferSize = 4 << 20;
        socket.ReceiveBufferSize = 4 << 20;
    }
}
