namespace Qmp.Cpu.X86.Tests.Interpreter;

/// <summary>The debugger's page walk (QMP memsave): the CPU's mapping, with no side effects.</summary>
public sealed class DebugTranslateTests
{
    private const uint Directory = 0x20000, Table = 0x21000;

    private static SystemRig PagedRig(bool pae = false)
    {
        var rig = new SystemRig();
        rig.Enter(0x1000, 0);
        if (pae)
        {
            // PDPT at Directory: entry 0 -> a page directory whose entry 1 is a 2 MiB page at 0x200000,
            // entry 3 -> a page table at Table mapping 0xC0000000 to 0x3000.
            rig.Write64(Directory, (Directory + 0x1000) | 1);
            rig.Write64(Directory + 0x1000 + 8, 0x200000 | 0x83);
            rig.Write64(Directory + 24, (Directory + 0x2000) | 1);
            rig.Write64(Directory + 0x2000, Table | 1);
            rig.Write64(Table, 0x3000 | 3);
            rig.Cpu.Cr4 |= 0x20;
        }
        else
        {
            // 0-4 MiB identity through a 4 MiB page; 0xC0000000 through a page table to 0x3000.
            rig.Write32(Directory, 0x83);
            rig.Write32(Directory + (0x300 * 4), Table | 3);
            rig.Write32(Table, 0x3000 | 3);
            rig.Cpu.Cr4 |= 0x10;
        }
        rig.Cpu.Cr3 = Directory;
        rig.Cpu.Cr0 |= 0x80000000;
        return rig;
    }

    [Fact]
    public void Without_paging_the_address_is_physical_in_all_64_bits()
    {
        using var rig = new SystemRig();
        rig.Enter(0x1000, 0);
        Assert.Equal(0x123456UL, rig.Cpu.DebugTranslate(0x123456));
        Assert.Equal(0x100000000UL, rig.Cpu.DebugTranslate(0x100000000));
    }

    [Fact]
    public void Mapped_pages_translate_through_big_pages_and_page_tables()
    {
        using var rig = PagedRig();
        Assert.Equal(0x1234UL, rig.Cpu.DebugTranslate(0x1234));
        Assert.Equal(0x3ABCUL, rig.Cpu.DebugTranslate(0xC0000ABC));
    }

    [Fact]
    public void Unmapped_pages_give_null_without_a_fault()
    {
        using var rig = PagedRig();
        Assert.Null(rig.Cpu.DebugTranslate(0x800000));
        Assert.Null(rig.Cpu.DebugTranslate(0xC0001000));
        Assert.Equal(0u, rig.Cpu.Cr2);
    }

    [Fact]
    public void With_paging_only_the_low_32_bits_are_linear()
    {
        using var rig = PagedRig();
        Assert.Equal(0x10UL, rig.Cpu.DebugTranslate(0x100000010));
    }

    [Fact]
    public void The_walk_sets_no_accessed_or_dirty_bits()
    {
        using var rig = PagedRig();
        rig.Cpu.DebugTranslate(0xC0000000);
        rig.Cpu.DebugTranslate(0x1000);
        Assert.Equal(0x83u, rig.Read32(Directory));
        Assert.Equal(Table | 3, rig.Read32(Directory + (0x300 * 4)));
        Assert.Equal(0x3003u, rig.Read32(Table));
    }

    [Fact]
    public void Pae_tables_translate_2_MiB_and_4_KiB_pages()
    {
        using var rig = PagedRig(pae: true);
        Assert.Equal(0x212345UL, rig.Cpu.DebugTranslate(0x212345));
        Assert.Equal(0x3010UL, rig.Cpu.DebugTranslate(0xC0000010));
        Assert.Null(rig.Cpu.DebugTranslate(0x1000));
        Assert.Null(rig.Cpu.DebugTranslate(0x40000000));
    }
}
