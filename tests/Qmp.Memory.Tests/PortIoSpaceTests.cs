using Qmp.Memory;

namespace Qmp.Memory.Tests;

public sealed class PortIoSpaceTests
{
    [Fact]
    public void Unassigned_ports_read_all_ones()
    {
        var io = new PortIoSpace();
        Assert.Equal(0xFFu, io.Read(0x80, 1));
        Assert.Equal(0xFFFFu, io.Read(0x80, 2));
        Assert.Equal(0xFFFFFFFFu, io.Read(0x80, 4));
        io.Write(0x80, 4, 0);
    }

    [Fact]
    public void Handler_sees_offsets_relative_to_its_base()
    {
        var io = new PortIoSpace();
        var uart = new RecordingHandler(8);
        io.Map(0x3f8, MemoryRegion.Io("serial", 8, uart, IoAccessRules.Bytes));
        io.Write(0x3fb, 1, 0x83);
        Assert.Equal(0x83u, io.Read(0x3fb, 1));
        Assert.Equal(["w1@3=83", "r1@3"], uart.Log);
    }

    [Fact]
    public void A_taken_port_refuses_the_whole_mapping()
    {
        var io = new PortIoSpace();
        io.Map(0x60, MemoryRegion.Io("kbd", 1, new RecordingHandler(1)));
        var late = MemoryRegion.Io("late", 8, new RecordingHandler(8));
        Assert.Throws<InvalidOperationException>(() => io.Map(0x5c, late));
        Assert.Null(io.Find(0x5c));
        Assert.Equal("kbd", io.Find(0x60)!.Name);
    }

    [Fact]
    public void Access_past_the_end_of_a_device_is_split_into_bytes()
    {
        var io = new PortIoSpace();
        var dev = new RecordingHandler(2);
        io.Map(0x70, MemoryRegion.Io("rtc", 2, dev));
        Assert.Equal(0xFFFF0000u, io.Read(0x70, 4));
        Assert.Equal(["r1@0", "r1@1"], dev.Log);
    }

    [Fact]
    public void Unmap_frees_every_port()
    {
        var io = new PortIoSpace();
        var region = MemoryRegion.Io("x", 4, new RecordingHandler(4));
        io.Map(0x100, region);
        io.Unmap(region);
        io.Map(0x102, MemoryRegion.Io("y", 4, new RecordingHandler(4)));
        Assert.Equal("y", io.Find(0x103)!.Name);
    }
}
