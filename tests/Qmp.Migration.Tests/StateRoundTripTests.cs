using Qmp.Machine;
using Qmp.Migration.Stream;

namespace Qmp.Migration.Tests;

public sealed class StateRoundTripTests
{
    [Fact]
    public async Task Cpu_state_round_trips_bit_for_bit()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var target = TestMachines.Create(TestMachines.Config(startPaused: true));
        source.Start();
        target.Start();
        await TestMachines.WaitForAsync(() => source.Board!.Cpu.InstructionsRetired > 100_000);
        await source.StopAsync();

        var saved = await source.InvokeAsync(() => Save(source.Board!.Cpu.SaveState));
        await target.InvokeAsync(() =>
        {
            using var reader = new BinaryReader(new MemoryStream(saved));
            target.Board!.Cpu.LoadState(reader, Cpu.X86.X86Cpu.StateVersion);
        });
        var again = await target.InvokeAsync(() => Save(target.Board!.Cpu.SaveState));

        Assert.Equal(saved, again);
        Assert.Equal(source.Board!.Cpu.InstructionPointer, target.Board!.Cpu.InstructionPointer);
        Assert.NotEqual(0u, source.Board.Cpu.GetRegister(6));
        Assert.Equal(source.Board.Cpu.GetRegister(6), target.Board.Cpu.GetRegister(6));
    }

    [Fact]
    public async Task Cpu_load_refuses_an_unknown_version_naming_the_section()
    {
        using var machine = TestMachines.Create(TestMachines.Config(startPaused: true));
        machine.Start();
        var saved = await machine.InvokeAsync(() => Save(machine.Board!.Cpu.SaveState));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => machine.InvokeAsync(() =>
            machine.Board!.Cpu.LoadState(new BinaryReader(new MemoryStream(saved)), Cpu.X86.X86Cpu.StateVersion + 1)));
        Assert.Contains("'cpu'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_section_of_a_machine_round_trips()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var target = TestMachines.Create(TestMachines.Config());
        target.EnterIncomingMigration();
        source.Start();
        target.Start();
        await TestMachines.WaitForAsync(() => source.Board!.Cpu.InstructionsRetired > 100_000);
        await source.StopAsync();

        var sections = await source.InvokeAsync(() => MachineState.Capture(source, RunState.Running));
        var state = await target.InvokeAsync(() => MachineState.Apply(target, sections));
        var again = await target.InvokeAsync(() => MachineState.Capture(target, state));

        Assert.Equal(RunState.Running, state);
        Assert.Contains(sections, s => s.Name == "cpu");
        Assert.Contains(sections, s => s.Name == "apic");
        // PCI functions (host bridge, PIIX3) are named by their bus path.
        Assert.True(sections.Count(s => s.Name.Contains('/', StringComparison.Ordinal)) >= 2, string.Join(", ", sections.Select(s => s.Name)));
        Assert.Equal(sections.Select(s => (s.Name, s.Instance, s.Version)), again.Select(s => (s.Name, s.Instance, s.Version)));
        foreach (var (saved, loaded) in sections.Zip(again))
            Assert.True(saved.Payload.AsSpan().SequenceEqual(loaded.Payload), $"section '{saved.Name}' differs after a round trip");
    }

    private static byte[] Save(Action<BinaryWriter> save)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            save(writer);
        return stream.ToArray();
    }
}
