using Qmp.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace Qmp.Cpu.X86.Tests.Interpreter;

/// <summary>System-level behaviour the user-mode differential tests cannot reach (SDM vol. 3).</summary>
public sealed class SystemTests
{
    [Fact]
    public void Reset_starts_in_real_mode_at_the_bios_reset_vector()
    {
        using var rig = new CpuRig();
        using var bios = RamBlock.CreateAnonymous("bios", 64 * 1024);
        rig.Memory.Map(0xFFFF0000, MemoryRegion.Rom("bios", bios, 0, 64 * 1024), priority: 1);
        rig.Memory.Map(0xF0000, MemoryRegion.Rom("isa-bios", bios, 0, 64 * 1024), priority: 1);
        // F000:FFF0 jumps far to F000:E000, which runs 16-bit code from the low alias of the ROM.
        var program = new Iced.Intel.Assembler(16);
        program.mov(ax, 0x1234);
        program.mov(bx, cs);
        program.hlt();
        var code = new MemoryStream();
        program.Assemble(new Iced.Intel.StreamCodeWriter(code), 0xE000);
        rig.Memory.LoadImage(0xFFFFE000, code.ToArray());
        rig.Memory.LoadImage(0xFFFFFFF0, [0xEA, 0x00, 0xE0, 0x00, 0xF0]);
        rig.Cpu.Reset();
        Assert.Equal(0xFFF0u, rig.Cpu.InstructionPointer);
        Assert.Equal(0x663u, rig.Cpu.GetRegister(2));
        rig.RunToHalt();
        Assert.Equal(0x1234u, rig.Cpu.GetRegister(0) & 0xFFFF);
        Assert.Equal(0xF000u, rig.Cpu.GetRegister(3) & 0xFFFF);
    }

    [Fact]
    public void Pae_maps_4k_and_2m_pages_and_faults_on_absent_ones()
    {
        using var rig = new SystemRig();
        // PDPT at 0x20000, page directory at 0x21000, page table at 0x22000.
        rig.Write64(0x20000, 0x21001);
        rig.Write64(0x21000, 0x22003);                         // 0-2 MiB through a page table
        rig.Write64(0x21008, 0x200083);                        // 2-4 MiB: one 2 MiB page, identity
        for (uint page = 0; page < 512; page++)
            rig.Write64(0x22000 + page * 8, (page << 12) | 3);
        rig.Write64(0x22000 + 0x100 * 8, (0x150UL << 12) | 3); // 0x100000 -> 0x150000
        rig.Write32(0x150000, 0xCAFEF00D);
        rig.Write32(0x300004, 0x600DBEEF);
        rig.Assemble(0x1000, 32, a =>
        {
            a.mov(eax, 0x20000);
            a.mov(cr3, eax);
            a.mov(eax, cr4);
            a.or(eax, 0x20);
            a.mov(cr4, eax);
            a.mov(eax, cr0);
            a.or(eax, 0x80000000);
            a.mov(cr0, eax);
            a.mov(ebx, __dword_ptr[0x100000]);
            a.mov(ecx, __dword_ptr[0x300004]);
            a.mov(edx, __dword_ptr[0x40000000]);
            a.hlt();
        });
        rig.Enter(0x1000, cpl: 0);
        rig.Run();
        Assert.Equal(0xCAFEF00Du, rig.Cpu.GetRegister(3));
        Assert.Equal(0x600DBEEFu, rig.Cpu.GetRegister(1));
        Assert.Equal(14u, rig.Vector);
        Assert.Equal(0u, rig.Stack(0));                        // supervisor read of an absent page
        Assert.Equal(0x40000000u, rig.Cpu.Cr2);
        Assert.True((rig.Read32(0x22000 + 0x100 * 8) & 0x20) != 0, "accessed bit set on the PTE");
    }

    [Fact]
    public void Interrupt_from_ring_3_switches_to_the_tss_stack()
    {
        using var rig = new SystemRig();
        rig.Assemble(0x1000, 32, a =>
        {
            a.mov(eax, 0x1234);
            a.@int(0x40);
        });
        rig.Enter(0x1000, cpl: 3, esp: 0x70000);
        rig.Run();
        Assert.Equal(0x40u, rig.Vector);
        Assert.Equal(0, rig.Cpu.Cpl);
        Assert.Equal(SystemRig.Ring0Stack - 20, rig.Cpu.Reg(Gpr32.Esp));
        Assert.Equal(0x1007u, rig.Stack(0));                   // return EIP after INT 0x40
        Assert.Equal(SystemRig.Code3, (ushort)rig.Stack(1));
        Assert.Equal(0x70000u, rig.Stack(3));                  // the caller's ESP and SS
        Assert.Equal(SystemRig.Data3, (ushort)rig.Stack(4));
    }

    [Fact]
    public void Privileged_instruction_in_ring_3_raises_gp_zero()
    {
        using var rig = new SystemRig();
        rig.Assemble(0x1000, 32, a => a.cli());
        rig.Enter(0x1000, cpl: 3);
        rig.Run();
        Assert.Equal(13u, rig.Vector);
        Assert.Equal(0u, rig.Stack(0));
        Assert.Equal(0x1000u, rig.Stack(1));
    }

    [Fact]
    public void Sysenter_and_sysexit_move_between_rings_0_and_3()
    {
        using var rig = new SystemRig();
        rig.Assemble(0x1000, 32, a =>
        {
            a.mov(ecx, 0x174);
            a.mov(eax, (uint)SystemRig.Code0);
            a.xor(edx, edx);
            a.wrmsr();
            a.mov(ecx, 0x175);
            a.mov(eax, 0x60000);
            a.wrmsr();
            a.mov(ecx, 0x176);
            a.mov(eax, 0x2000);
            a.wrmsr();
            // SYSEXIT to ring 3 at EDX with ESP = ECX; the ring-3 code calls SYSENTER back.
            a.mov(edx, 0x3000);
            a.mov(ecx, 0x71000);
            a.sysexit();
        });
        rig.Assemble(0x3000, 32, a =>
        {
            a.mov(esi, cs);
            a.sysenter();
        });
        rig.Assemble(0x2000, 32, a =>
        {
            a.mov(edi, cs);
            a.hlt();
        });
        rig.Enter(0x1000, cpl: 0);
        rig.Run();
        Assert.Null(rig.Vector);
        Assert.Equal(0x1Bu, rig.Cpu.GetRegister(6) & 0xFFFF);  // SYSENTER_CS + 16, RPL 3
        Assert.Equal(0x08u, rig.Cpu.GetRegister(7) & 0xFFFF);
        Assert.Equal(0x60000u, rig.Cpu.Reg(Gpr32.Esp));
        Assert.Equal(0, rig.Cpu.Cpl);
    }

    [Fact]
    public void Nmi_is_taken_with_interrupts_disabled()
    {
        using var rig = new SystemRig();
        var loop = default(Iced.Intel.Label);
        rig.Assemble(0x1000, 32, a =>
        {
            loop = a.CreateLabel();
            a.cli();
            a.Label(ref loop);
            a.jmp(loop);
        });
        rig.Enter(0x1000, cpl: 0);
        Assert.Equal(CpuExit.BudgetExhausted, rig.Run(1000));
        rig.Cpu.RaiseNmi();
        rig.Cpu.ClearExitRequest();
        rig.Run(1000);
        Assert.Equal(2u, rig.Vector);
    }

    [Fact]
    public void X87_opcodes_raise_nm_under_cr0_em_and_ud_otherwise()
    {
        using var rig = new SystemRig();
        rig.Assemble(0x1000, 32, a => a.fsin());
        rig.Enter(0x1000, cpl: 0);
        rig.Run();
        Assert.Equal(6u, rig.Vector);
        rig.Enter(0x1000, cpl: 0);
        rig.Cpu.Cr0 |= 0x4;
        rig.Run();
        Assert.Equal(7u, rig.Vector);
    }

    [Fact]
    public void Iret_to_virtual_8086_mode_runs_real_mode_code_until_a_sensitive_instruction()
    {
        using var rig = new SystemRig();
        // VM86 code at 0x2000:0x0000 (linear 0x20000): mov ax, 0x55; hlt (HLT faults with #GP in VM86).
        rig.Memory.LoadImage(0x20000, [0xB8, 0x55, 0x00, 0xF4]);
        rig.Assemble(0x1000, 32, a =>
        {
            a.push(0);          // GS
            a.push(0);          // FS
            a.push(0x3000);     // DS
            a.push(0);          // ES
            a.push(0x4000);     // SS
            a.push(0x100);      // SP
            a.push(0x20002);    // EFLAGS: VM, IOPL 0
            a.push(0x2000);     // CS
            a.push(0);          // IP
            a.iretd();
        });
        rig.Enter(0x1000, cpl: 0);
        rig.Run();
        Assert.Equal(13u, rig.Vector);
        Assert.Equal(0x55u, rig.Cpu.GetRegister(0) & 0xFFFF);
        Assert.Equal(3u, rig.Stack(1));                        // EIP of the HLT
        Assert.Equal(0x2000u, rig.Stack(2));                   // CS of the VM86 code
        Assert.NotEqual(0u, rig.Stack(3) & 0x20000);           // EFLAGS.VM saved
        Assert.Equal(0x3000u, rig.Stack(7));                   // DS pushed for a VM86 interrupt
    }

    [Fact]
    public void Io_bitmap_in_the_tss_grants_single_ports_to_ring_3()
    {
        using var rig = new SystemRig();
                // A TSS (at 0x30000, ring-0 stack as usual) with an I/O bitmap at 0x68 that allows only port 0x80.
        const uint tss = 0x30000;
        const ulong descriptor = 0x0000890000000000 | ((ulong)tss << 16) | (0x68 + 8192 + 1);
        rig.Write32(tss + 4, SystemRig.Ring0Stack);
        rig.Write32(tss + 8, SystemRig.Data0);
        rig.Memory.LoadImage(tss + 0x66, [0x68, 0x00]);
        var bitmap = new byte[8192 + 1];
        Array.Fill(bitmap, (byte)0xFF);
        bitmap[0x80 / 8] = unchecked((byte)~(1 << (0x80 % 8)));
        rig.Memory.LoadImage(tss + 0x68, bitmap);
        rig.Assemble(0x1000, 32, a =>
        {
            a.mov(al, 0x5A);
            a.@out(0x80, al);
            a.@out(0x81, al);
        });
        rig.Enter(0x1000, cpl: 3);
        rig.Cpu.Tr = X86Cpu.ParseDescriptor(SystemRig.TssSelector, descriptor | (0x2UL << 40));
        rig.Run();
        Assert.Equal(13u, rig.Vector);
        Assert.Equal(0x1004u, rig.Stack(1));                   // the OUT to 0x81, after the allowed one
    }

    [Fact]
    public async Task Dma_write_from_another_thread_invalidates_translated_code()
    {
        using var rig = new CpuRig();
        var loop = default(Iced.Intel.Label);
        rig.Load32(0x1000, a =>
        {
            loop = a.CreateLabel();
            a.Label(ref loop);
            a.mov(eax, 1);                                     // B8 01 00 00 00 at 0x1000
            a.jmp(loop);
        });
        Assert.Equal(CpuExit.BudgetExhausted, rig.Cpu.Run(1000));
        // A device on another thread rewrites the immediate; the next block boundary sees it.
        await Task.Run(() => rig.Memory.Write(0x1001, [7, 0, 0, 0]));
        rig.Cpu.ClearExitRequest();
        rig.Cpu.Run(1000);
        Assert.Equal(7u, rig.Cpu.GetRegister(0));
        Assert.True(rig.Cpu.BlockStatistics.Invalidated >= 1);
    }

    [Fact]
    public void Tsc_deadline_msr_goes_to_the_apic_in_virtual_time()
    {
        using var rig = new SystemRig();
        var now = 5_000L;
        (ulong Value, long At)? written = null;
        rig.Cpu.Clock = () => now;
        rig.Cpu.TscDeadline = (() => 42, (value, at) => written = (value, at));
        rig.Assemble(0x1000, 32, a =>
        {
            a.mov(ecx, 0x6E0);
            a.mov(eax, 5_000 + 300);
            a.xor(edx, edx);
            a.wrmsr();
            a.rdmsr();
            a.hlt();
        });
        rig.Enter(0x1000, cpl: 0);
        rig.Run();
        Assert.Null(rig.Vector);
        Assert.Equal(((ulong)5_300, 5_300L), written);
        Assert.Equal(42u, rig.Cpu.GetRegister(0));
    }
}
