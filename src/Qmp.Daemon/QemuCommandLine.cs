using System.Globalization;
using System.Text.Json;
using Qmp.Machine;

namespace Qmp.Daemon;

/// <summary>
/// Parses the QEMU-style command line for one machine (and <c>--config FILE</c> for several).
/// Every error names the option; nothing unknown is silently ignored.
/// </summary>
internal static partial class QemuCommandLine
{
    /// <summary>Where the default machine listens when qmpd runs with no arguments.</summary>
    public const string DefaultUnixPath = "qmp.sock";

    public const int DefaultTcpPort = 4444;

    public static DaemonOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
            return Default();
        for (var i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] is "-machine" or "-M" or "--machine" && args[i + 1] == "help")
                return new DaemonOptions { Machines = [], InfoOutput = MachineHelp() };
        }
        if (args[0] == "--config")
        {
            if (args.Count != 2)
                throw new CommandLineException("--config", "takes one file and no other options");
            return ParseConfig(args[1]);
        }
        var machine = ParseMachine(args, out var global);
        return global with { Machines = [machine] };
    }

    /// <summary>QEMU's <c>-machine help</c> listing.</summary>
    private static string MachineHelp()
    {
        var lines = new List<string> { "Supported machines are:" };
        foreach (var type in MachineTypes.All)
        {
            if (type.Alias is not null)
                lines.Add($"{type.Alias,-20} {type.Description} (alias of {type.Name})");
            lines.Add($"{type.Name,-20} {type.Description}{(type.IsDefault ? " (default)" : "")}");
        }
        return string.Join('\n', lines) + "\n";
    }

    private static DaemonOptions Default() => new()
    {
        IsDefault = true,
        Machines =
        [
            // The built-in demo guest, its serial port on stdout so the first run shows it working.
            new MachineSpec(new MachineConfig { Name = "demo", DemoGuest = true, CharBackends = [new CharBackendConfig("serial0", "stdio")], Serials = ["serial0"] },
            [
                new MonitorSpec(new ChardevSpec { Id = "compat_monitor0", Backend = "socket", Path = DefaultUnixPath, Server = true, Wait = false }, false),
                new MonitorSpec(new ChardevSpec { Id = "compat_monitor1", Backend = "socket", Host = "127.0.0.1", Port = DefaultTcpPort, Server = true, Wait = false }, false),
            ]),
        ],
    };

    /// <summary>
    /// A config file: <c>{"pidfile": ..., "log": ..., "machines": [{"args": ["-name", "vm1", ...]}, ...]}</c>,
    /// each machine described with the same options as the command line.
    /// </summary>
    private static DaemonOptions ParseConfig(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new CommandLineException("--config", $"cannot read '{path}': {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("machines", out var machines) || machines.ValueKind != JsonValueKind.Array || machines.GetArrayLength() == 0)
                throw new CommandLineException("--config", $"'{path}' must be an object with a non-empty 'machines' array");
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("machines" or "pidfile" or "log"))
                    throw new CommandLineException("--config", $"'{path}': unknown member '{property.Name}'");
            }
            var specs = new List<MachineSpec>();
            foreach (var entry in machines.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("args", out var argsElement) || argsElement.ValueKind != JsonValueKind.Array)
                    throw new CommandLineException("--config", $"'{path}': each machine needs an 'args' array");
                var machineArgs = argsElement.EnumerateArray().Select(a => a.GetString() ?? "").ToList();
                var spec = ParseMachine(machineArgs, out var global);
                if (global.PidFile is not null || global.Daemonize || global.LogFile is not null)
                    throw new CommandLineException("--config", "-pidfile, -daemonize and -D belong to the daemon, not to a machine");
                specs.Add(spec);
            }
            var names = specs.Select(s => s.Config.Name).Where(n => n is not null).ToList();
            if (names.Distinct().Count() != names.Count)
                throw new CommandLineException("--config", "machine names must be unique");
            return new DaemonOptions
            {
                Machines = specs,
                PidFile = root.TryGetProperty("pidfile", out var pid) ? pid.GetString() : null,
                LogFile = root.TryGetProperty("log", out var log) ? log.GetString() : null,
            };
        }
    }

    private static MachineSpec ParseMachine(IReadOnlyList<string> args, out DaemonOptions global)
    {
        var config = new MachineConfig();
        var chardevs = new Dictionary<string, ChardevSpec>(StringComparer.Ordinal);
        var monitors = new List<(string ChardevId, bool Pretty, string Option)>();
        var serials = new List<(string Spec, string Option)>();
        string? debugcon = null;
        var objects = new Dictionary<string, MemoryBackendConfig>(StringComparer.Ordinal);
        string? memoryBackendId = null;
        var devices = new List<DeviceConfig>();
        var block = new List<BlockSpec>();
        var noDefaults = false;
        string? pidFile = null, logFile = null;
        var daemonize = false;
        var qmpCount = 0;
        string? incoming = null;
        for (var i = 0; i < args.Count; i++)
        {
            var option = args[i];
            // QEMU accepts "--opt" for "-opt".
            var name = option.StartsWith("--", StringComparison.Ordinal) ? option[1..] : option;
            string Value() => i + 1 < args.Count ? args[++i] : throw new CommandLineException(option, "requires an argument");
            switch (name)
            {
                case "-name":
                    config = config with { Name = ParseName(option, Value()) };
                    break;
                case "-uuid":
                    var uuidText = Value();
                    config = config with { Uuid = Guid.TryParseExact(uuidText, "D", out var uuid) ? uuid : throw new CommandLineException(option, $"Fail to parse UUID string. Wrong format: {uuidText}") };
                    break;
                case "-m":
                    config = config with { RamSize = ParseMemory(option, Value()), RamSizeGiven = true };
                    break;
                case "-smp":
                    config = config with { Cpus = ParseSmp(option, Value()) };
                    break;
                case "-machine" or "-M":
                    var machine = ParseMachineType(option, Value());
                    config = config with { MachineType = machine.Type, AuxRamShare = machine.AuxRamShare };
                    memoryBackendId = machine.MemoryBackend ?? memoryBackendId;
                    break;
                case "-S":
                    config = config with { StartPaused = true };
                    break;
                case "-incoming":
                    incoming = ParseIncoming(option, Value());
                    break;
                case "-no-shutdown":
                    config = config with { NoShutdown = true };
                    break;
                case "-nodefaults":
                    noDefaults = true;
                    break;
                case "-no-user-config":
                    // qmpd reads no user config; nothing to turn off.
                    break;
                case "-display":
                    if (Value() != "none")
                        throw new CommandLineException(option, "qmpd is headless: only 'none' is supported");
                    break;
                case "-daemonize":
                    daemonize = true;
                    break;
                case "-pidfile":
                    pidFile = Value();
                    break;
                case "-D":
                    logFile = Value();
                    break;
                case "-qmp" or "-qmp-pretty":
                    var chardev = ParseQmpShorthand(option, Value(), $"compat_monitor{qmpCount++}");
                    chardevs[chardev.Id] = chardev;
                    monitors.Add((chardev.Id, name == "-qmp-pretty", option));
                    break;
                case "-chardev":
                    var spec = ParseChardev(option, Value());
                    if (!chardevs.TryAdd(spec.Id, spec))
                        throw new CommandLineException(option, $"attempt to add duplicate property '{spec.Id}' to object (type 'container')");
                    break;
                case "-object":
                    var obj = ParseObject(option, Value());
                    if (!objects.TryAdd(obj.Id, obj))
                        throw new CommandLineException(option, $"attempt to add duplicate property '{obj.Id}' to object (type 'container')");
                    break;
                case "-kernel":
                    config = config with { Kernel = Value() };
                    break;
                case "-fw_cfg":
                    config = config with { FwCfgItems = [.. config.FwCfgItems, Value()] };
                    break;
                case "-bios":
                    config = config with { Bios = Value() };
                    break;
                case "-append":
                    config = config with { Append = Value() };
                    break;
                case "-initrd":
                    config = config with { Initrd = Value().Split(',', StringSplitOptions.RemoveEmptyEntries) };
                    break;
                case "-no-reboot":
                    config = config with { NoReboot = true };
                    break;
                case "-serial":
                    serials.Add((Value(), option));
                    break;
                case "-debugcon":
                    debugcon = Value();
                    break;
                case "-device":
                    devices.Add(ParseDevice(option, Value()));
                    break;
                case "-global":
                    // qmpd has no ACPI PCI hotplug, so QEMU's switch to hand bridges to native hotplug is already
                    // how qmpd behaves; any other global property is refused rather than ignored.
                    if (Value() is not ("PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off" or "PIIX4_PM.acpi-root-pci-hotplug=off"))
                        throw new CommandLineException(option, "only PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off and PIIX4_PM.acpi-root-pci-hotplug=off are supported (qmpd has no ACPI PCI hotplug)");
                    break;
                case "-blockdev":
                    block.Add(ParseBlockdev(option, Value()));
                    break;
                case "-drive":
                    block.Add(ParseDrive(option, Value(), block.Count(b => b.DriveId is not null)));
                    break;
                case "-mon":
                    var mon = OptionString.Parse(option, Value(), allowHead: false);
                    var id = mon.Get("chardev") ?? throw new CommandLineException(option, "Parameter 'chardev' is missing");
                    var mode = mon.Get("mode") ?? "readline";
                    if (mode != "control")
                        throw new CommandLineException(option, $"mode '{mode}' is not supported: qmpd has QMP monitors only (mode=control)");
                    var pretty = mon.GetBool("pretty", false);
                    mon.Get("id"); // libvirt names its monitor; nothing refers to the name
                    mon.CheckAllUsed();
                    monitors.Add((id, pretty, option));
                    break;
                default:
                    throw new CommandLineException(option, "invalid option");
            }
        }
        var monitorSpecs = new List<MonitorSpec>();
        foreach (var (id, pretty, option) in monitors)
        {
            if (!chardevs.TryGetValue(id, out var chardev))
                throw new CommandLineException(option, $"chardev \"{id}\" not found");
            monitorSpecs.Add(new MonitorSpec(chardev, pretty));
        }
        if (monitorSpecs.Count(m => m.Chardev.Backend == "stdio") > 1)
            throw new CommandLineException("-qmp", "only one monitor may use stdio");
        var machineType = MachineTypes.Find(config.MachineType)!;
        if (config.Cpus > machineType.CpuMax)
            throw new CommandLineException("-smp", $"Invalid SMP CPUs {config.Cpus}. The max CPUs supported by machine '{machineType.Name}' is {machineType.CpuMax}");
        config = WireGuestChardevs(config, chardevs, serials, debugcon, devices, noDefaults, monitors.Select(m => m.ChardevId).ToHashSet());
        if (memoryBackendId is not null)
        {
            var backend = objects.GetValueOrDefault(memoryBackendId)
                ?? throw new CommandLineException("-machine", $"Memory backend '{memoryBackendId}' not found");
            if (config.RamSizeGiven && config.RamSize != backend.Size)
                throw new CommandLineException("-machine", "Machine memory size does not match the size of the memory backend");
            config = config with { MemoryBackend = backend, RamSize = backend.Size };
        }
        if (daemonize && config.CharBackends.Any(b => b.Backend == "stdio"))
            throw new CommandLineException("-daemonize", "-nographic, -qmp stdio and -serial stdio cannot be used with -daemonize");
        global = new DaemonOptions { Machines = [], PidFile = pidFile, LogFile = logFile, Daemonize = daemonize };
        if (daemonize && monitorSpecs.Any(m => m.Chardev.Backend == "stdio"))
            throw new CommandLineException("-daemonize", "-nographic, -qmp stdio and -serial stdio cannot be used with -daemonize");
        return new MachineSpec(config, monitorSpecs) { Block = block, Incoming = incoming };
    }

    private static string ParseName(string option, string text)
    {
        if (!text.Contains('=', StringComparison.Ordinal))
            return text;
        var parsed = OptionString.Parse(option, text, allowHead: true);
        var guest = parsed.Get("guest") ?? parsed.Head ?? throw new CommandLineException(option, "Parameter 'guest' is missing");
        parsed.GetBool("debug-threads", false);
        parsed.Get("process");
        parsed.CheckAllUsed();
        return guest;
    }

    private static long ParseMemory(string option, string text)
    {
        var parsed = OptionString.Parse(option, text);
        var size = parsed.Get("size") ?? parsed.Head ?? throw new CommandLineException(option, "missing 'size' option value");
        parsed.CheckAllUsed();
        // A bare number means MiB, as in QEMU.
        var suffix = char.IsLetter(size[^1]) ? char.ToUpperInvariant(size[^1]) : 'M';
        var digits = char.IsLetter(size[^1]) ? size[..^1] : size;
        var shift = suffix switch { 'B' => 0, 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => -1 };
        if (shift < 0 || !double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
            throw new CommandLineException(option, $"invalid ram size: {size}");
        return (long)(amount * (1L << shift));
    }

    private static int ParseSmp(string option, string text)
    {
        var parsed = OptionString.Parse(option, text);
        var cpus = parsed.Get("cpus") ?? parsed.Head ?? "1";
        foreach (var key in new[] { "sockets", "cores", "threads", "maxcpus", "dies", "clusters" })
            parsed.GetInt(key);
        parsed.CheckAllUsed();
        if (!int.TryParse(cpus, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            throw new CommandLineException(option, $"Invalid SMP CPUs {cpus}");
        return n;
    }

    private static (string Type, string? MemoryBackend, bool AuxRamShare) ParseMachineType(string option, string text)
    {
        var parsed = OptionString.Parse(option, text);
        var typeName = parsed.Get("type") ?? parsed.Head ?? MachineTypes.Default.Name;
        // Properties management layers always pass and that change nothing for qmpd's boards.
        parsed.Get("accel");
        parsed.Get("usb");
        parsed.Get("dump-guest-core");
        var memoryBackend = parsed.Get("memory-backend");
        var auxRamShare = parsed.GetBool("aux-ram-share", false);
        parsed.CheckAllUsed();
        var type = MachineTypes.Find(typeName)
            ?? throw new CommandLineException(option, $"unsupported machine type '{typeName}'\nUse -machine help to list supported machines");
        return (type.Name, memoryBackend, auxRamShare);
    }

    // -object memory-backend-ram|memory-backend-memfd in the dotted form or as JSON (libvirt).
    // -device in QEMU's dotted form or as JSON (libvirt uses JSON when device_add has the json-cli feature).
    private static DeviceConfig ParseDevice(string option, string text)
    {
        if (!text.TrimStart().StartsWith('{'))
        {
            var device = OptionString.Parse(option, text, allowHead: true);
            var driver = device.Head ?? device.Get("driver") ?? throw new CommandLineException(option, "Parameter 'driver' is missing");
            return new DeviceConfig(driver, [.. device.TakeAll().Where(p => p.Key != "driver")]);
        }
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                throw new CommandLineException(option, "JSON object expected");
            if (!json.RootElement.TryGetProperty("driver", out var driverElement) || driverElement.ValueKind != JsonValueKind.String)
                throw new CommandLineException(option, "Parameter 'driver' is missing");
            var properties = json.RootElement.EnumerateObject().Where(p => p.Name != "driver")
                .Select(p => new KeyValuePair<string, string>(p.Name, DeviceConfig.Text(p.Value))).ToList();
            return new DeviceConfig(driverElement.GetString()!, properties);
        }
        catch (JsonException e)
        {
            throw new CommandLineException(option, $"JSON parse error: {e.Message}");
        }
    }

    private static MemoryBackendConfig ParseObject(string option, string text)
    {
        Dictionary<string, string> values;
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                values = json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText().ToLowerInvariant(), StringComparer.Ordinal);
            }
            catch (JsonException e)
            {
                throw new CommandLineException(option, $"JSON parse error: {e.Message}");
            }
        }
        else
        {
            var parsed = OptionString.Parse(option, text, allowHead: true);
            values = parsed.TakeAll().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            if (parsed.Head is { } head)
                values["qom-type"] = head;
        }
        var type = values.GetValueOrDefault("qom-type") ?? throw new CommandLineException(option, "Parameter 'qom-type' is missing");
        var id = values.GetValueOrDefault("id") ?? throw new CommandLineException(option, "Parameter 'id' is missing");
        if (type is not ("memory-backend-ram" or "memory-backend-memfd"))
            throw new CommandLineException(option, $"invalid object type: {type}");
        foreach (var key in values.Keys)
        {
            if (key is not ("qom-type" or "id" or "size" or "share" or "x-use-canonical-path-for-ramblock-id" or "merge" or "dump" or "prealloc"))
                throw new CommandLineException(option, $"Property '{type}.{key}' not found");
        }
        var size = values.TryGetValue("size", out var sizeText) ? ParseMemory(option, sizeText.All(char.IsAsciiDigit) ? sizeText + "B" : sizeText) : 0;
        if (size <= 0)
            throw new CommandLineException(option, "can't create backend with size 0");
        var share = values.TryGetValue("share", out var shareText)
            ? shareText is "on" or "true" or "yes" ? true : shareText is "off" or "false" or "no" ? false : throw new CommandLineException(option, "Parameter 'share' expects 'on' or 'off'")
            : type == "memory-backend-memfd";
        return new MemoryBackendConfig(id, type, size, share);
    }


    // -incoming URI or defer; the URI is checked here so a typo fails at start-up, as in QEMU.
    private static string ParseIncoming(string option, string value)
    {
        if (value == "defer")
            return value;
        try
        {
            // fd:N is only checked for its form here; the descriptor is taken when the machine starts.
            Qmp.Migration.Channels.MigrationUri.Parse(value, _ => new Microsoft.Win32.SafeHandles.SafeFileHandle(-1, ownsHandle: false));
        }
        catch (Qmp.Migration.MigrationException e)
        {
            throw new CommandLineException(option, e.Message);
        }
        return value;
    }
}
