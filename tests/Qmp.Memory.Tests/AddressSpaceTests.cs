using Qmp.Memory;

namespace Qmp.Memory.Tests;

public sealed class AddressSpaceTests
{
    [Fact]
    public void Ram_reads_back_what_was_written_little_endian()
    {
        using var block = RamBlock.CreateAnonymous("ram", 2 * 4096);
        var space = new AddressSpace("memory");
        space.Map(0x1000, MemoryRegion.Ram("ram", block, 0, 8192));
        space.Write(0x1ffe, 4, 0x11223344);
        Assert.Equal(0x44, block.GetSpan(0xffe, 1)[0]);
        Assert.Equal(0x11223344UL, space.Read(0x1ffe, 4));
        Assert.Equal(0x3344UL, space.Read(0x1ffe, 2));
    }

    [Fact]
    public void Unassigned_memory_reads_zero_and_drops_writes()
    {
        var space = new AddressSpace("memory");
        space.Write(0x5000, 4, 0x12345678);
        Assert.Equal(0UL, space.Read(0x5000, 4));
        var buffer = new byte[] { 1, 2, 3 };
        space.Read(0x5000, buffer);
        Assert.Equal(new byte[3], buffer);
    }

    [Fact]
    public void Higher_priority_region_hides_ram_until_unmapped()
    {
        using var block = RamBlock.CreateAnonymous("ram", 4 * 4096);
        var space = new AddressSpace("memory");
        space.Map(0, MemoryRegion.Ram("ram", block, 0, 4 * 4096));
        var device = new RecordingHandler(4096);
        var mmio = MemoryRegion.Io("dev", 4096, device);
        space.Map(0x1000, mmio, priority: 1);
        Assert.Equal(3, space.FlatView.Count);
        space.Write(0x1004, 4, 0xCAFE);
        Assert.Equal(["w4@4=cafe"], device.Log);
        Assert.Equal(0, block.GetSpan(0x1004, 1)[0]);
        space.Unmap(mmio);
        Assert.Single(space.FlatView);
        space.Write(0x1004, 1, 0x5A);
        Assert.Equal(0x5A, block.GetSpan(0x1004, 1)[0]);
    }

    [Fact]
    public void Overlap_at_equal_priority_is_refused_and_changes_nothing()
    {
        var space = new AddressSpace("memory");
        space.Map(0x1000, MemoryRegion.Io("a", 0x100, new RecordingHandler(0x100)));
        var before = space.FlatView;
        var ex = Assert.Throws<InvalidOperationException>(() => space.Map(0x10f0, MemoryRegion.Io("b", 0x100, new RecordingHandler(0x100))));
        Assert.Contains("overlaps a", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, space.FlatView);
    }

    [Fact]
    public void Byte_register_device_sees_a_dword_read_as_four_byte_reads()
    {
        var device = new RecordingHandler(8);
        device.Registers[0] = 1; device.Registers[1] = 2; device.Registers[2] = 3; device.Registers[3] = 4;
        var space = new AddressSpace("memory");
        space.Map(0xfee00000, MemoryRegion.Io("dev", 8, device, IoAccessRules.Bytes));
        Assert.Equal(0x04030201UL, space.Read(0xfee00000, 4));
        Assert.Equal(["r1@0", "r1@1", "r1@2", "r1@3"], device.Log);
    }

    [Fact]
    public void Dword_register_device_sees_a_byte_read_widened()
    {
        var device = new RecordingHandler(8);
        device.Registers[0] = 0xAA; device.Registers[1] = 0xBB;
        var space = new AddressSpace("memory");
        space.Map(0x1000, MemoryRegion.Io("dev", 8, device, IoAccessRules.Dwords));
        Assert.Equal(0xAAUL, space.Read(0x1000, 1));
        Assert.Equal(["r4@0"], device.Log);
    }

    [Fact]
    public void Access_straddling_ram_and_device_is_split_at_the_boundary()
    {
        using var block = RamBlock.CreateAnonymous("ram", 4096);
        var device = new RecordingHandler(16);
        var space = new AddressSpace("memory");
        space.Map(0, MemoryRegion.Ram("ram", block, 0, 4096));
        space.Map(4096, MemoryRegion.Io("dev", 16, device));
        space.Write(4094, 4, 0x44332211);
        Assert.Equal(0x2211, BitConverter.ToUInt16(block.GetSpan(4094, 2)));
        Assert.Equal(["w1@0=33", "w1@1=44"], device.Log);
    }

    [Fact]
    public void Guest_writes_to_rom_are_dropped_but_the_loader_writes_it()
    {
        using var block = RamBlock.CreateAnonymous("bios", 4096);
        var space = new AddressSpace("memory");
        space.Map(0xf0000, MemoryRegion.Rom("bios", block, 0, 4096));
        space.LoadImage(0xf0000, [0xEA]);
        space.Write(0xf0000, 1, 0x90);
        Assert.Equal(0xEAUL, space.Read(0xf0000, 1));
    }

    [Fact]
    public void Layout_changes_are_announced()
    {
        var space = new AddressSpace("memory");
        var changes = 0;
        space.LayoutChanged += () => changes++;
        var region = MemoryRegion.Io("a", 16, new RecordingHandler(16));
        space.Map(0, region);
        space.Unmap(region);
        space.Unmap(region);
        Assert.Equal(2, changes);
    }
}
