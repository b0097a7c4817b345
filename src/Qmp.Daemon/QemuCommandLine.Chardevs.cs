using System.Globalization;
using Qmp.Machine;

namespace Qmp.Daemon;

/// <summary>Chardev options: -chardev, the -qmp/-serial shorthands, and guest devices wired to their backends.</summary>
internal static partial class QemuCommandLine
{
    // Serial ports and chardev-backed devices: -serial creates chardevs serial0.. as QEMU does;
    // without -serial and -nodefaults COM1 exists with no backend (QEMU's headless default).
    private static MachineConfig WireGuestChardevs(MachineConfig config, Dictionary<string, ChardevSpec> chardevs, List<(string Spec, string Option)> serials,
        string? debugcon, List<DeviceConfig> devices, bool noDefaults, HashSet<string> monitorChardevs)
    {
        var backends = new List<CharBackendConfig>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        CharBackendConfig Backend(string option, string id)
        {
            if (!chardevs.TryGetValue(id, out var spec))
                throw new CommandLineException(option, $"chardev \"{id}\" not found");
            if (monitorChardevs.Contains(id) || !used.Add(id))
                throw new CommandLineException(option, $"chardev '{id}' is already in use");
            return GuestBackend(spec) with { HasFrontend = true };
        }
        var ports = new List<string?>();
        // The legacy device specs of -serial and -debugcon: stdio, null, file:P, chardev:ID, unix:..., tcp:...
        CharBackendConfig SpecBackend(string text, string id, string option) => text switch
        {
            "stdio" => new(id, "stdio") { HasFrontend = true },
            "null" => new(id, "null") { HasFrontend = true },
            _ when text.StartsWith("file:", StringComparison.Ordinal) => new(id, "file", text[5..]) { HasFrontend = true },
            _ when text.StartsWith("chardev:", StringComparison.Ordinal) => Backend(option, text[8..]),
            _ when text.StartsWith("unix:", StringComparison.Ordinal) || text.StartsWith("tcp:", StringComparison.Ordinal)
                => GuestBackend(ParseQmpShorthand(option, text, id)) with { HasFrontend = true },
            _ => throw new CommandLineException(option, $"'{text}' is not a valid char driver"),
        };
        foreach (var (text, option) in serials)
        {
            if (text == "none")
                continue;
            var backend = SpecBackend(text, $"serial{ports.Count}", option);
            backends.Add(backend);
            ports.Add(backend.Id);
        }
        if (debugcon is { } debugconSpec && debugconSpec != "none")
        {
            // QEMU's -debugcon: an isa-debugcon at 0xe9 on a chardev labelled "debugcon".
            var backend = SpecBackend(debugconSpec, "debugcon", "-debugcon");
            backends.Add(backend);
            devices.Add(new DeviceConfig("isa-debugcon", [new("chardev", backend.Id)]));
        }
        if (serials.Count == 0 && !noDefaults)
            ports.Add(null);
        foreach (var device in devices)
        {
            var chardev = device.Properties.FirstOrDefault(p => p.Key == "chardev").Value;
            if (chardev is not null && !backends.Any(b => b.Id == chardev))
                backends.Add(Backend("-device", chardev));
        }
        // Chardevs nobody uses yet still exist (query-chardev, ringbuf-read, chardev-remove).
        foreach (var spec in chardevs.Values)
        {
            if (!monitorChardevs.Contains(spec.Id) && !used.Contains(spec.Id))
                backends.Add(GuestBackend(spec));
        }
        return config with { CharBackends = backends, Serials = ports, Devices = devices };
    }

    private static CharBackendConfig GuestBackend(ChardevSpec spec)
    {
        if (spec.Backend == "socket" && spec.Fd is not null)
            throw new CommandLineException("-chardev", $"chardev '{spec.Id}': fd= sockets serve monitors only");
        return new CharBackendConfig(spec.Id, spec.Backend, spec.Path, spec.Size)
        {
            Host = spec.Host,
            Port = spec.Port ?? 0,
            Server = spec.Server,
            Wait = spec.Wait,
        };
    }

    private static ChardevSpec ParseQmpShorthand(string option, string text, string id)
    {
        if (text == "stdio")
            return new ChardevSpec { Id = id, Backend = "stdio" };
        var colon = text.IndexOf(':');
        if (colon < 0)
            throw new CommandLineException(option, $"'{text}' is not a valid char driver");
        var kind = text[..colon];
        var rest = OptionString.Parse(option, text[(colon + 1)..]);
        ChardevSpec spec;
        switch (kind)
        {
            case "unix":
                spec = new ChardevSpec { Id = id, Backend = "socket", Path = rest.Head ?? throw new CommandLineException(option, "unix: needs a path") };
                break;
            case "tcp":
                var address = rest.Head ?? "";
                var portColon = address.LastIndexOf(':');
                if (portColon < 0 || !int.TryParse(address[(portColon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                    throw new CommandLineException(option, $"tcp: needs HOST:PORT, got '{address}'");
                spec = new ChardevSpec { Id = id, Backend = "socket", Host = address[..portColon], Port = port };
                break;
            default:
                throw new CommandLineException(option, $"'{kind}' is not a valid char driver");
        }
        spec = spec with { Server = rest.GetBool("server", false), Wait = !rest.GetBool("nowait", false) && rest.GetBool("wait", true) };
        rest.CheckAllUsed();
        return spec;
    }

    private static ChardevSpec ParseChardev(string option, string text)
    {
        var parsed = OptionString.Parse(option, text);
        var id = parsed.Get("id") ?? throw new CommandLineException(option, "Parameter 'id' is missing");
        var backend = parsed.Head ?? throw new CommandLineException(option, "chardev: no backend given");
        ChardevSpec spec;
        switch (backend)
        {
            case "stdio":
                parsed.Get("signal");
                spec = new ChardevSpec { Id = id, Backend = "stdio" };
                break;
            case "socket":
                var path = parsed.Get("path");
                var host = parsed.Get("host");
                var port = parsed.GetInt("port");
                var fd = parsed.GetInt("fd");
                if (new[] { path is not null, host is not null || port is not null, fd is not null }.Count(b => b) != 1)
                    throw new CommandLineException(option, "chardev: socket needs exactly one of 'path', 'host'+'port' or 'fd'");
                if ((host is not null || port is not null) && port is null)
                    throw new CommandLineException(option, "chardev: socket: 'port' is missing");
                spec = new ChardevSpec
                {
                    Id = id,
                    Backend = "socket",
                    Path = path,
                    Host = host ?? (port is null ? null : "127.0.0.1"),
                    Port = port,
                    Fd = fd,
                    Server = parsed.GetBool("server", false),
                    Wait = !parsed.GetBool("nowait", false) && parsed.GetBool("wait", true),
                };
                break;
            case "null":
                spec = new ChardevSpec { Id = id, Backend = "null" };
                break;
            case "file":
                spec = new ChardevSpec { Id = id, Backend = "file", Path = parsed.Get("path") ?? throw new CommandLineException(option, "chardev: file: no filename given") };
                break;
            case "ringbuf" or "memory":
                var size = parsed.GetInt("size") ?? 65536;
                if (size <= 0 || (size & (size - 1)) != 0)
                    throw new CommandLineException(option, "size of ringbuf chardev must be power of two");
                spec = new ChardevSpec { Id = id, Backend = "ringbuf", Size = size };
                break;
            default:
                throw new CommandLineException(option, $"'{backend}' is not a valid char driver");
        }
        parsed.Get("logfile");
        parsed.CheckAllUsed();
        return spec;
    }
}
