using System.Text;
using Qmp.Machine;
using Qmp.Memory;
using Qmp.Migration.Stream;

namespace Qmp.Migration;

/// <summary>
/// The machine as the stream carries it: its configuration record, its RAM blocks and its device sections.
/// Capture and Apply run on the machine thread with the guest stopped.
/// </summary>
internal static class MachineState
{
    /// <summary>The RAM blocks that migrate, in a fixed order for the configuration.</summary>
    public static IReadOnlyList<RamBlock> RamBlocks(Machine.Machine machine) =>
        machine.Board?.Cpu.Memory.RamBlocks() ?? [];

    /// <summary>The configuration record of <paramref name="machine"/>; the uuid only with validate-uuid.</summary>
    public static MigrationConfig Describe(Machine.Machine machine, bool validateUuid) => new(
        machine.Config.MachineType,
        [.. RamBlocks(machine).Select(b => new RamBlockInfo(b.Name, b.Size))],
        validateUuid ? machine.Config.Uuid : null);

    /// <summary>
    /// Checks a received configuration against <paramref name="machine"/> (QEMU's texts) and returns the local
    /// RAM blocks in the stream's block order.
    /// </summary>
    /// <exception cref="MigrationLoadException">The machine type, a RAM block or the uuid differs.</exception>
    public static IReadOnlyList<RamBlock> Validate(MigrationConfig received, Machine.Machine machine)
    {
        if (received.MachineType != machine.Config.MachineType)
            throw new MigrationLoadException($"Machine type received is '{received.MachineType}' and local is '{machine.Config.MachineType}'");
        if (received.Uuid is { } uuid && uuid != machine.Config.Uuid)
            throw new MigrationLoadException($"UUID received is '{uuid:D}' and local is '{machine.Config.Uuid:D}'");
        var local = RamBlocks(machine).ToDictionary(b => b.Name, StringComparer.Ordinal);
        var ordered = new List<RamBlock>();
        foreach (var block in received.RamBlocks)
        {
            if (!local.Remove(block.Name, out var mine))
                throw new MigrationLoadException($"Unknown ramblock \"{block.Name}\", cannot accept migration");
            if (mine.Size != block.Size)
                throw new MigrationLoadException($"Length mismatch: {block.Name}: 0x{block.Size:x} in != 0x{mine.Size:x}: Invalid argument");
            ordered.Add(mine);
        }
        if (local.Count > 0)
            throw new MigrationLoadException($"RAM block '{local.Keys.First()}' is missing from the migration stream");
        return ordered;
    }

    /// <summary>Every section of the stopped machine: global state, clock, CPU, then the devices.</summary>
    public static List<DeviceSection> Capture(Machine.Machine machine, RunState sourceState)
    {
        var sections = new List<DeviceSection>
        {
            new(MigrationFormat.GlobalStateSection, 0, 1, Encoding.UTF8.GetBytes(sourceState.ToString())),
        };
        if (machine.Board is not { } board)
            return sections;
        sections.Add(new DeviceSection(MigrationFormat.TimerSection, 0, 1, BitConverter.GetBytes(board.Timers.Clock.Now)));
        sections.Add(new DeviceSection(MigrationFormat.CpuSection, 0, Cpu.X86.X86Cpu.StateVersion, Save(board.Cpu.SaveState)));
        foreach (var (device, instance) in Instances(machine))
            sections.Add(new DeviceSection(device.SectionName, instance, device.StateVersion, Save(device.SaveState)));
        return sections;
    }

    /// <summary>
    /// Loads <paramref name="sections"/> into the machine after checking that they match its devices one to
    /// one (so nothing is loaded from a stream of another device set); returns the source's run state.
    /// </summary>
    /// <exception cref="MigrationLoadException">An unknown, duplicated or missing section, or one a device cannot load; the message names it.</exception>
    public static RunState Apply(Machine.Machine machine, IReadOnlyList<DeviceSection> sections)
    {
        var devices = Instances(machine).ToDictionary(d => (d.Device.SectionName, d.Instance), d => d.Device);
        var board = machine.Board;
        var expected = new HashSet<(string, int)>(devices.Keys) { (MigrationFormat.GlobalStateSection, 0) };
        if (board is not null)
        {
            expected.Add((MigrationFormat.TimerSection, 0));
            expected.Add((MigrationFormat.CpuSection, 0));
        }
        var seen = new HashSet<(string, int)>();
        foreach (var section in sections)
        {
            var key = (section.Name, section.Instance);
            if (!expected.Contains(key))
                throw new MigrationLoadException($"Unknown savevm section or instance '{section.Name}' {section.Instance}. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices");
            if (!seen.Add(key))
                throw new MigrationLoadException($"section '{section.Name}' instance {section.Instance} appears twice in the migration stream");
        }
        foreach (var key in expected.Where(k => !seen.Contains(k)).Order())
            throw new MigrationLoadException($"section '{key.Item1}' instance {key.Item2} is missing from the migration stream");

        var sourceState = RunState.Running;
        foreach (var section in sections)
        {
            Load(section, reader =>
            {
                switch (section.Name)
                {
                    case MigrationFormat.GlobalStateSection:
                        var name = Encoding.UTF8.GetString(section.Payload);
                        if (!Enum.TryParse(name, out sourceState))
                            throw new InvalidDataException($"section '{section.Name}': unknown run state '{name}'");
                        reader.BaseStream.Position = reader.BaseStream.Length;
                        break;
                    case MigrationFormat.TimerSection:
                        board!.Timers.Clock.Restore(reader.ReadInt64());
                        break;
                    case MigrationFormat.CpuSection:
                        board!.Cpu.LoadState(reader, section.Version);
                        break;
                    default:
                        devices[(section.Name, section.Instance)].LoadState(reader, section.Version);
                        break;
                }
            });
        }
        return sourceState;
    }

    // Devices with the instance number QEMU would give them: the count of earlier devices with the same name.
    private static IEnumerable<(Machine.Devices.IStatefulDevice Device, int Instance)> Instances(Machine.Machine machine)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var device in machine.StatefulDevices())
        {
            counts.TryGetValue(device.SectionName, out var instance);
            counts[device.SectionName] = instance + 1;
            yield return (device, instance);
        }
    }

    private static byte[] Save(Action<BinaryWriter> save)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            save(writer);
        return buffer.ToArray();
    }

    private static void Load(DeviceSection section, Action<BinaryReader> load)
    {
        using var reader = new BinaryReader(new MemoryStream(section.Payload, writable: false), Encoding.UTF8);
        try
        {
            load(reader);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or InvalidOperationException or ArgumentException)
        {
            var text = e is EndOfStreamException ? "truncated" : e.Message;
            throw new MigrationLoadException(text.Contains($"'{section.Name}'", StringComparison.Ordinal) ? text : $"section '{section.Name}' instance {section.Instance}: {text}", e);
        }
        var left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (left != 0)
            throw new MigrationLoadException($"section '{section.Name}' instance {section.Instance}: {left} bytes left over (saved by a different device version?)");
    }
}
