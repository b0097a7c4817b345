using static Iced.Intel.AssemblerRegisters;

namespace Qmp.Cpu.X86.Tests.Interpreter;

public sealed class SmokeTests
{
    [Fact]
    public void Loop_sums_one_to_a_hundred()
    {
        using var rig = new CpuRig();
        rig.Load32(0x1000, a =>
        {
            var loop = a.CreateLabel();
            a.xor(eax, eax);
            a.mov(ecx, 100);
            a.Label(ref loop);
            a.add(eax, ecx);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });
        rig.RunToHalt();
        Assert.Equal(5050u, rig.Cpu.GetRegister(0));
    }

    // Spin loops (a driver polling a ring) use PAUSE, which changes nothing but EIP.
    [Fact]
    public void Pause_in_a_spin_loop_changes_only_eip()
    {
        using var rig = new CpuRig();
        rig.Load32(0x1000, a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 3);
            a.Label(ref loop);
            a.pause();
            a.dec(ecx);
            a.jnz(loop);
            a.mov(eax, 7);
            a.hlt();
        });
        rig.RunToHalt();
        Assert.Equal(7u, rig.Cpu.GetRegister(0));
        Assert.Equal(0u, rig.Cpu.GetRegister(1));
    }

    [Fact]
    public void Call_and_ret_use_the_stack()
    {
        using var rig = new CpuRig();
        rig.Load32(0x1000, a =>
        {
            var function = a.CreateLabel();
            a.mov(eax, 1);
            a.call(function);
            a.add(eax, 100);
            a.hlt();
            a.Label(ref function);
            a.shl(eax, 4);
            a.ret();
        });
        rig.RunToHalt();
        Assert.Equal(116u, rig.Cpu.GetRegister(0));
        Assert.Equal(0x80000u, rig.Cpu.GetRegister(4));
    }

    [Fact]
    public void Writing_into_a_translated_block_retranslates_it()
    {
        using var rig = new CpuRig();
        rig.Load32(0x1000, a =>
        {
            var again = a.CreateLabel();
            var done = a.CreateLabel();
            a.mov(ebx, 0);
            a.Label(ref again);
            a.mov(eax, 1);          // at 0x1005: B8 01 00 00 00
            a.inc(ebx);
            a.cmp(ebx, 2);
            a.je(done);
            a.mov(__dword_ptr[0x1006], 7);
            a.jmp(again);
            a.Label(ref done);
            a.hlt();
        });
        rig.RunToHalt();
        Assert.Equal(7u, rig.Cpu.GetRegister(0));
    }
}
