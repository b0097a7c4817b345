using Qmp.Machine;
using Qmp.Machine.Pc;

namespace Qmp.Migration.Tests;

/// <summary>pc machines for migration tests, optionally running a tiny guest that dirties RAM.</summary>
internal static class TestMachines
{
    /// <summary>Where the dirtying guest's code lives.</summary>
    public const uint CodeAddress = 0x100000;

    /// <summary>The first page the dirtying guest writes.</summary>
    public const uint RegionStart = 0x200000;

    /// <summary>The end of the region the dirtying guest writes (16 MiB: 4096 pages).</summary>
    public const uint RegionEnd = 0x1200000;

    // start: mov esi, RegionStart / again: inc byte [esi] / add esi, 4096 / cmp esi, RegionEnd / jb again / jmp start
    private static readonly byte[] _dirtier =
    [
        0xBE, .. BitConverter.GetBytes(RegionStart),
        0xFE, 0x06,
        0x81, 0xC6, 0x00, 0x10, 0x00, 0x00,
        0x81, 0xFE, .. BitConverter.GetBytes(RegionEnd),
        0x72, 0xF0,
        0xEB, 0xE9,
    ];

    public static MachineConfig Config(long ramMiB = 32, bool startPaused = false, Guid? uuid = null) => new()
    {
        Name = "mig",
        RamSize = ramMiB << 20,
        StartPaused = startPaused,
        Uuid = uuid ?? Guid.Empty,
    };

    /// <summary>A pc machine (not started); with <paramref name="dirtier"/> its CPU runs the dirtying loop.</summary>
    public static Machine.Machine Create(MachineConfig config, bool dirtier = false, Qmp.Block.BlockGraph? block = null)
    {
        block ??= new Qmp.Block.BlockGraph();
        var machine = new Machine.Machine(config, board: control => new PcBoard(config, control, _ => throw new InvalidOperationException("no chardevs"), block), block: block);
        if (dirtier)
        {
            var cpu = machine.Board!.Cpu;
            cpu.Memory.Write(CodeAddress, _dirtier);
            cpu.EnterFlatProtectedMode(CodeAddress);
        }
        return machine;
    }

    /// <summary>All of guest RAM (the machine should be stopped).</summary>
    public static byte[] Ram(Machine.Machine machine)
    {
        var block = ((PcBoard)machine.Board!).Ram;
        return block.GetSpan(0, (int)block.Size).ToArray();
    }

    /// <summary>The single-step invariant of QEMU's migration test over the dirtied region: every page's byte equals the previous one's, except at most one place where it is one less.</summary>
    public static int BadPages(byte[] ram)
    {
        var steps = 0;
        var bad = 0;
        for (var page = RegionStart + 4096; page < RegionEnd; page += 4096)
        {
            var previous = ram[page - 4096];
            var current = ram[page];
            if (current == previous)
                continue;
            if (current == (byte)(previous - 1) && steps++ == 0)
                continue;
            bad++;
        }
        return bad;
    }

    public static async Task WaitForAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition not met in time");
            await Task.Delay(10);
        }
    }
}
