using Qmp.Machine.Chardevs.Backends;

namespace Qmp.Machine.Chardevs;

/// <summary>Creates the host side of a guest chardev from its configuration.</summary>
public static class CharBackendFactory
{
    /// <summary>Opens the backend <paramref name="config"/> describes.</summary>
    /// <exception cref="MachineOperationException">A file backend cannot be opened.</exception>
    public static ICharBackend Create(CharBackendConfig config)
    {
        switch (config.Backend)
        {
            case "null":
                return new RingBufferBackend(1);
            case "ringbuf":
                if (config.Size <= 0 || (config.Size & (config.Size - 1)) != 0)
                    throw new MachineOperationException("size of ringbuf chardev must be power of two");
                return new RingBufferBackend(config.Size);
            case "socket":
                if (config.Descriptor is { } descriptor)
                    return SocketBackend.Adopt(descriptor.Handle, descriptor.Name, config.Server, config.Wait);
                return config.Server
                    ? SocketBackend.Listen(config.Path, config.Host, config.Port, config.Wait, config.InetOptions)
                    : SocketBackend.Connect(config.Path, config.Host, config.Port, config.InetOptions);
            case "stdio":
                return new StreamBackend(Console.OpenStandardOutput(), name: $"chardev {config.Id}");
            case "file":
                try
                {
                    // QEMU truncates a file chardev unless append=on.
                    var stream = new FileStream(config.Path!, config.Append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
                    return new StreamBackend(stream, name: $"chardev {config.Id}");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new MachineOperationException($"Could not open '{config.Path}': {(e is FileNotFoundException or DirectoryNotFoundException ? "No such file or directory" : e.Message)}");
                }
            default:
                throw new MachineOperationException($"chardev '{config.Id}': '{config.Backend}' is not a valid char driver");
        }
    }
}
