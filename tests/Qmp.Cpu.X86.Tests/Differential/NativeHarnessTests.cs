using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

[Collection(NativeHarnessCollection.Name)]
public sealed class NativeHarnessTests(NativeHarnessFixture fixture)
{
    private readonly NativeHarness _harness = fixture.Harness;

    private static uint[] Registers(uint eax = 0, uint ecx = 0, uint edx = 0, uint ebx = 0) =>
        [eax, ecx, edx, ebx, CpuLayout.DefaultStackPointer, 0x5555_5555, 0x6666_6666, 0x7777_7777];

    private static byte[] RandomData(int seed)
    {
        var data = new byte[CpuLayout.DataSize];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Harness_round_trips_registers_flags_and_data_for_empty_code()
    {
        uint[] registers = [0x0123_4567, 0x89AB_CDEF, 0xFFFF_FFFF, 0, CpuLayout.StackPageBase + 0x7FC, 0x8000_0000, 0x7FFF_FFFF, CpuLayout.DataBase];
        var data = RandomData(1);
        CpuCase[] cases =
        [
            CpuCase.Create("all input flags", [], registers, CpuLayout.InputFlags, data),
            CpuCase.Create("no input flags", [], registers, 0, data),
            CpuCase.Create("every bit set: only the input flags are taken", [], registers, 0xFFFF_FFFF, data),
        ];

        var outcomes = await _harness.RunAsync(cases, CancellationToken.None);

        Assert.Equal(cases.Length, outcomes.Count);
        foreach (var (c, outcome) in cases.Zip(outcomes))
        {
            Assert.Null(outcome.Vector);
            Assert.Equal(c.Registers, outcome.Registers);
            Assert.Equal(CpuLayout.CodeBase, outcome.Eip);
            Assert.Equal(data, outcome.Data);
        }

        Assert.Equal(0x0000_0ED7u, outcomes[0].Eflags);
        Assert.Equal(0x0000_0202u, outcomes[1].Eflags);
        Assert.Equal(0x0000_0ED7u, outcomes[2].Eflags);
    }

    [Fact]
    public async Task Harness_captures_flags_produced_by_the_code()
    {
        var code = CaseGenerator.Encode(Instruction.Create(Code.Add_r32_rm32, Register.EAX, Register.EBX));
        var c = CpuCase.Create("add 0x7FFFFFFF + 1", code, Registers(eax: 0x7FFF_FFFF, ebx: 1), CpuLayout.DF | CpuLayout.CF);

        var outcome = (await _harness.RunAsync([c], CancellationToken.None))[0];

        Assert.Null(outcome.Vector);
        Assert.Equal(0x8000_0000u, outcome.Registers[CpuLayout.Eax]);
        Assert.Equal(CpuLayout.CodeBase + (uint)code.Length, outcome.Eip);
        // OF SF AF PF from the add, CF cleared by it, DF kept, IF and bit 1 forced.
        Assert.Equal(CpuLayout.OF | CpuLayout.SF | CpuLayout.AF | CpuLayout.PF | CpuLayout.DF | CpuLayout.IF | CpuLayout.ReservedOne, outcome.Eflags);
    }

    [Fact]
    public async Task Harness_reports_divide_error_with_vector_0_and_the_state_at_the_faulting_div()
    {
        var setup = CaseGenerator.Encode(
            Instruction.Create(Code.Mov_r32_imm32, Register.EAX, 0x1234u),
            Instruction.Create(Code.Mov_r32_imm32, Register.EDX, 0u));
        var code = CaseGenerator.Encode(
            Instruction.Create(Code.Mov_r32_imm32, Register.EAX, 0x1234u),
            Instruction.Create(Code.Mov_r32_imm32, Register.EDX, 0u),
            Instruction.Create(Code.Div_rm32, Register.ECX),
            Instruction.Create(Code.Nopd));
        var c = CpuCase.Create("div ecx with ecx = 0", code, Registers(eax: 1, ecx: 0, edx: 2), CpuLayout.ZF);

        var outcome = (await _harness.RunAsync([c], CancellationToken.None))[0];

        Assert.Equal(CpuLayout.DivideError, outcome.Vector);
        Assert.Equal(CpuLayout.CodeBase + (uint)setup.Length, outcome.Eip);
        Assert.Equal([0x1234u, 0, 0, 0, CpuLayout.DefaultStackPointer, 0x5555_5555, 0x6666_6666, 0x7777_7777], outcome.Registers);
        Assert.Equal(CpuLayout.ZF | CpuLayout.ForcedFlags, outcome.Eflags);
        Assert.Equal(0u, outcome.ErrorCode);
    }

    [Fact]
    public async Task Harness_reports_invalid_opcode_with_vector_6_at_ud2()
    {
        var c = CpuCase.Create("nop; ud2", CaseGenerator.Encode(Instruction.Create(Code.Nopd), Instruction.Create(Code.Ud2)), Registers(eax: 42));

        var outcome = (await _harness.RunAsync([c], CancellationToken.None))[0];

        Assert.Equal(CpuLayout.InvalidOpcode, outcome.Vector);
        Assert.Equal(CpuLayout.CodeBase + 1, outcome.Eip);
        Assert.Equal(42u, outcome.Registers[CpuLayout.Eax]);
    }

    [Fact]
    public async Task Harness_returns_memory_and_stack_writes_in_the_data_window()
    {
        var code = CaseGenerator.Encode(
            Instruction.Create(Code.Mov_rm32_r32, new MemoryOperand(Register.EBX, 8), Register.EAX),
            Instruction.Create(Code.Push_r32, Register.ECX));
        var data = RandomData(2);
        var c = CpuCase.Create("mov [ebx+8], eax; push ecx", code, Registers(eax: 0xDEAD_BEEF, ecx: 0x0102_0304, ebx: CpuLayout.DataBase + 0x100), 0, data);

        var outcome = (await _harness.RunAsync([c], CancellationToken.None))[0];

        var expected = (byte[])data.Clone();
        new byte[] { 0xEF, 0xBE, 0xAD, 0xDE }.CopyTo(expected, 0x108);
        new byte[] { 0x04, 0x03, 0x02, 0x01 }.CopyTo(expected, (int)(CpuLayout.DefaultStackPointer - 4 - CpuLayout.DataBase));
        Assert.Null(outcome.Vector);
        Assert.Equal(CpuLayout.DefaultStackPointer - 4, outcome.StackPointer);
        Assert.Equal(expected, outcome.Data);
    }

    [Fact]
    public async Task Harness_reports_page_faults_outside_the_window_with_cr2_and_error_code()
    {
        CpuCase[] cases =
        [
            CpuCase.Create("read past the end", CaseGenerator.Encode(
                Instruction.Create(Code.Mov_r32_rm32, Register.EAX, new MemoryOperand(Register.None, unchecked((int)CpuLayout.DataEnd), 4))), Registers()),
            CpuCase.Create("write below the start", CaseGenerator.Encode(
                Instruction.Create(Code.Mov_rm32_r32, new MemoryOperand(Register.EBX, -4), Register.EAX)), Registers(ebx: CpuLayout.DataBase)),
        ];

        var outcomes = await _harness.RunAsync(cases, CancellationToken.None);

        Assert.All(outcomes, o => Assert.Equal(CpuLayout.PageFault, o.Vector));
        Assert.All(outcomes, o => Assert.Equal(CpuLayout.CodeBase, o.Eip));
        Assert.Equal(CpuLayout.DataEnd, outcomes[0].Cr2);
        Assert.Equal(CpuLayout.DataBase - 4, outcomes[1].Cr2);
        // Error code bits: 1 present, 2 write, 4 user.
        Assert.Equal(4u, outcomes[0].ErrorCode & 7);
        Assert.Equal(6u, outcomes[1].ErrorCode & 7);
    }

    [Fact]
    public async Task Harness_reports_traps_with_eip_after_the_instruction()
    {
        var int3 = CaseGenerator.Encode(Instruction.Create(Code.Int3));
        var into = CaseGenerator.Encode(Instruction.Create(Code.Into));
        CpuCase[] cases =
        [
            CpuCase.Create("int3", int3, Registers()),
            CpuCase.Create("into with OF", into, Registers(), CpuLayout.OF),
            CpuCase.Create("into without OF", into, Registers()),
        ];

        var outcomes = await _harness.RunAsync(cases, CancellationToken.None);

        Assert.Equal(CpuLayout.Breakpoint, outcomes[0].Vector);
        Assert.Equal(CpuLayout.Overflow, outcomes[1].Vector);
        Assert.Null(outcomes[2].Vector);
        Assert.All(outcomes, o => Assert.Equal(CpuLayout.CodeBase + 1, o.Eip));
    }

    [Fact]
    public async Task Harness_keeps_running_cases_after_a_fault()
    {
        var fault = CpuCase.Create("ud2", CaseGenerator.Encode(Instruction.Create(Code.Ud2)), Registers());
        var normal = CpuCase.Create("inc eax", CaseGenerator.Encode(Instruction.Create(Code.Inc_r32, Register.EAX)), Registers(eax: 41));

        var outcomes = await _harness.RunAsync([fault, normal, fault, normal], CancellationToken.None);

        Assert.Equal([CpuLayout.InvalidOpcode, null, CpuLayout.InvalidOpcode, null], outcomes.Select(o => o.Vector));
        Assert.Equal(42u, outcomes[3].Registers[CpuLayout.Eax]);
        Assert.Equal(CpuLayout.ForcedFlags, outcomes[3].Eflags);
    }
}
