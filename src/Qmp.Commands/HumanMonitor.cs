using System.Text;
using Qmp.Schema;

namespace Qmp.Commands;

/// <summary>
/// The human monitor commands reachable through human-monitor-command. Each calls the same
/// handler as its QMP twin and prints QEMU's HMP text. Unknown commands are not errors, as in QEMU.
/// </summary>
public sealed class HumanMonitor(Machine.Machine machine, IControlCommands control, IMachineCommands machineCommands, ICharCommands chardevs)
{
    private static readonly (string Name, string Help)[] _commands =
    [
        ("cont|c", "resume emulation"),
        ("help|?", "show the help"),
        ("info status", "show the current VM status (running|paused)"),
        ("info version", "show the version of QEMU"),
        ("info name", "show the current VM name"),
        ("info uuid", "show the current VM UUID"),
        ("info kvm", "show KVM information"),
        ("info chardev", "show the character devices"),
        ("quit|q", "quit the emulator"),
        ("stop|s", "stop emulation"),
        ("system_powerdown", "send system power down event"),
        ("system_reset", "reset the system"),
    ];

    /// <summary>Runs one command line; returns its output with <c>\n</c> line ends.</summary>
    public async Task<string> ExecuteAsync(string commandLine, CancellationToken cancellationToken)
    {
        var words = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
            return "";
        switch (words[0])
        {
            case "help" or "?":
                return string.Concat(_commands.Select(c => $"{c.Name} -- {c.Help}\n"));
            case "info" when words.Length > 1:
                return await InfoAsync(words[1], cancellationToken).ConfigureAwait(false)
                    ?? $"unknown command: 'info {words[1]}'\n";
            case "info":
                return string.Concat(_commands.Where(c => c.Name.StartsWith("info ", StringComparison.Ordinal)).Select(c => $"{c.Name} -- {c.Help}\n"));
            case "stop" or "s":
                await DomainMapping.Guard(() => machine.StopAsync(cancellationToken)).ConfigureAwait(false);
                return "";
            case "cont" or "c":
                await DomainMapping.Guard(() => machine.ContinueAsync(cancellationToken)).ConfigureAwait(false);
                return "";
            case "system_reset":
                await machineCommands.SystemResetAsync(cancellationToken).ConfigureAwait(false);
                return "";
            case "system_powerdown":
                await machineCommands.SystemPowerdownAsync(cancellationToken).ConfigureAwait(false);
                return "";
            case "quit" or "q":
                await control.QuitAsync(cancellationToken).ConfigureAwait(false);
                return "";
            default:
                return $"unknown command: '{words[0]}'\n";
        }
    }

    private async Task<string?> InfoAsync(string item, CancellationToken cancellationToken)
    {
        switch (item)
        {
            case "status":
                var state = machine.RunState;
                var running = state == Machine.RunState.Running;
                var suffix = !running && state != Machine.RunState.Paused ? $" ({state.ToSchema().ToWire()})" : "";
                return $"VM status: {(running ? "running" : "paused")}{suffix}\n";
            case "version":
                var version = await control.QueryVersionAsync(cancellationToken).ConfigureAwait(false);
                return $"{version.Qemu.Major}.{version.Qemu.Minor}.{version.Qemu.Micro}{version.Package}\n";
            case "name":
                return machine.Config.Name is { } name ? name + "\n" : "";
            case "uuid":
                return machine.Config.Uuid.ToString("D") + "\n";
            case "kvm":
                return "kvm support: not compiled\n";
            case "chardev":
                var sb = new StringBuilder();
                foreach (var c in await chardevs.QueryChardevAsync(cancellationToken).ConfigureAwait(false))
                    sb.Append($"{c.Label}: filename={c.Filename}\n");
                return sb.ToString();
            default:
                return null;
        }
    }
}
