using System.Text;
using Qmp.Machine;
using Qmp.Machine.Chardevs;
using Qmp.Machine.Chardevs.Backends;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>char.json: query-chardev, ringbuf-read/-write, chardev-add/-remove, with QEMU 7.2's error texts.</summary>
public sealed class CharCommands(Machine.Machine machine) : ICharCommands
{
    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ChardevInfo>> QueryChardevAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ChardevInfo> list = machine.Chardevs.List()
            .Select(c => new ChardevInfo { Label = c.Label, Filename = c.Filename, FrontendOpen = c.FrontendOpen })
            .ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask RingbufWriteAsync(RingbufWriteArguments arguments, CancellationToken cancellationToken)
    {
        var ring = FindRingbuf(arguments.Device);
        byte[] bytes;
        if (arguments.Format == DataFormat.Base64)
        {
            try
            {
                bytes = Convert.FromBase64String(arguments.Data);
            }
            catch (FormatException)
            {
                throw new QmpErrorException(QmpErrorClass.GenericError, "Invalid Base64 data");
            }
        }
        else
            bytes = Encoding.UTF8.GetBytes(arguments.Data);
        ring.Write(bytes);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<string> RingbufReadAsync(RingbufReadArguments arguments, CancellationToken cancellationToken)
    {
        var ring = FindRingbuf(arguments.Device);
        if (arguments.Size <= 0)
            throw new QmpErrorException(QmpErrorClass.GenericError, "size must be greater than zero");
        var bytes = ring.ReadBytes((int)Math.Min(arguments.Size, int.MaxValue));
        return ValueTask.FromResult(arguments.Format == DataFormat.Base64 ? Convert.ToBase64String(bytes) : Encoding.UTF8.GetString(bytes));
    }

    /// <inheritdoc/>
    public ValueTask<ChardevReturn> ChardevAddAsync(ChardevAddArguments arguments, CancellationToken cancellationToken)
    {
        if (machine.Chardevs.Find(arguments.Id) is not null)
            throw new QmpErrorException(QmpErrorClass.GenericError, $"Chardev with id '{arguments.Id}' already exists");
        var backend = arguments.Backend;
        var config = backend.Type switch
        {
            ChardevBackendKind.File => new CharBackendConfig(arguments.Id, "file", backend.File!.Data.Out) { Append = backend.File.Data.Append ?? false },
            ChardevBackendKind.Null => new CharBackendConfig(arguments.Id, "null"),
            ChardevBackendKind.Socket => SocketConfig(arguments.Id, backend.Socket!.Data),
            ChardevBackendKind.Stdio => new CharBackendConfig(arguments.Id, "stdio"),
            ChardevBackendKind.Ringbuf => new CharBackendConfig(arguments.Id, "ringbuf", Size: (int)Math.Min(backend.Ringbuf!.Data.Size ?? 65536, int.MaxValue)),
            _ => new CharBackendConfig(arguments.Id, "ringbuf", Size: (int)Math.Min(backend.Memory!.Data.Size ?? 65536, int.MaxValue)),
        };
        ICharBackend created;
        try
        {
            created = CharBackendFactory.Create(config);
        }
        catch (MachineOperationException e)
        {
            throw new QmpErrorException(QmpErrorClass.GenericError, $"Failed to add chardev '{arguments.Id}': {e.Message}");
        }
        machine.AddGuestChardev(arguments.Id, config.Backend, created, frontendOpen: false);
        return ValueTask.FromResult(new ChardevReturn());
    }

    /// <inheritdoc/>
    public ValueTask ChardevRemoveAsync(ChardevRemoveArguments arguments, CancellationToken cancellationToken)
    {
        var chardev = machine.Chardevs.Find(arguments.Id)
            ?? throw new QmpErrorException(QmpErrorClass.GenericError, $"Chardev '{arguments.Id}' not found");
        if (chardev.FrontendOpen || chardev.Backend is null)
            throw new QmpErrorException(QmpErrorClass.GenericError, $"Chardev '{arguments.Id}' is busy");
        machine.Chardevs.Remove(arguments.Id);
        (chardev.Backend as IDisposable)?.Dispose();
        return ValueTask.CompletedTask;
    }

    // QEMU's defaults for QMP: server=true, wait=false.
    private static CharBackendConfig SocketConfig(string id, ChardevSocket socket)
    {
        var server = socket.Server ?? true;
        var wait = server && (socket.Wait ?? false);
        if (socket.Addr.Type == SocketAddressType.Fd)
        {
            // QEMU's socket_get_fd: with a monitor, only a getfd name (a number is a name too).
            var name = socket.Addr.Fd!.Data.Str;
            var handle = QmpRequestContext.Current?.Fds.Take(name)
                ?? throw new QmpErrorException(QmpErrorClass.GenericError, $"Failed to add chardev '{id}': File descriptor named '{name}' has not been found");
            return new CharBackendConfig(id, "socket") { Descriptor = (name, handle), Server = server, Wait = wait };
        }
        if (socket.Addr.Type == SocketAddressType.Unix)
            return new CharBackendConfig(id, "socket", socket.Addr.Unix!.Data.Path) { Server = server, Wait = wait };
        var inet = socket.Addr.Inet!.Data;
        if (!int.TryParse(inet.Port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new QmpErrorException(QmpErrorClass.GenericError, $"Failed to add chardev '{id}': address resolution failed for {inet.Host}:{inet.Port}: Servname not supported for ai_socktype");
        return new CharBackendConfig(id, "socket") { Host = inet.Host, Port = port, Server = server, Wait = wait, InetOptions = inet.ToOptions() };
    }

    private RingBufferBackend FindRingbuf(string device)
    {
        var chardev = machine.Chardevs.Find(device)
            ?? throw new QmpErrorException(QmpErrorClass.GenericError, $"Device '{device}' not found");
        return chardev.Backend as RingBufferBackend
            ?? throw new QmpErrorException(QmpErrorClass.GenericError, $"{device} is not a ringbuf device");
    }
}
