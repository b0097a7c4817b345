using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Apic;
using Qmp.Machine.Devices.Pc;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices.Apic;

public sealed class ApicLifecycleTests
{
    private readonly TestBoard _board = new();

    private AddressSpace Memory => _board.Context.Memory;

    private static MemoryRegion Dummy(string name) =>
        MemoryRegion.Io(name, 0x1000, new DelegateIoHandler((_, _) => 0x5A5A5A5A, (_, _, _) => { }));

    [Fact]
    public void Type_and_section_names_are_qemus()
    {
        Assert.Equal("apic", new LocalApic().TypeName);
        Assert.Equal("apic", new LocalApic().SectionName);
        Assert.Equal("ioapic", new IoApic().TypeName);
        Assert.Equal("ioapic", new IoApic().SectionName);
    }

    [Fact]
    public void Register_pages_sit_above_ram_and_unrealize_uncovers_it()
    {
        using var ram = RamBlock.CreateAnonymous("ram", 0x2000000);
        var region = MemoryRegion.Ram("ram", ram, 0, 0x2000000);
        Memory.Map(0xFE000000, region);
        Memory.Write(LocalApic.DefaultBaseAddress + 0x30, 4, 0x12345678);
        var apic = _board.Realize(new LocalApic { ClockOverride = _board.Clock });
        var ioapic = _board.Realize(new IoApic());
        Assert.Equal(0x00050014UL, Memory.Read(LocalApic.DefaultBaseAddress + 0x30, 4));
        Memory.Write(IoApic.DefaultBaseAddress, 4, 1);
        Assert.Equal(0x00170020UL, Memory.Read(IoApic.DefaultBaseAddress + 0x10, 4));
        apic.Unrealize();
        ioapic.Unrealize();
        Assert.Equal(0x12345678UL, Memory.Read(LocalApic.DefaultBaseAddress + 0x30, 4));
        Assert.Same(region, Memory.Find(IoApic.DefaultBaseAddress)!.Region);
        Memory.Unmap(region);
    }

    [Fact]
    public void Local_apic_at_a_taken_page_fails_and_leaves_nothing_behind()
    {
        var taken = Dummy("other");
        Memory.Map(LocalApic.DefaultBaseAddress, taken, priority: 1);
        var apic = new LocalApic { ClockOverride = _board.Clock };
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(apic));
        Assert.False(apic.Realized);
        Assert.Single(Memory.FlatView);
        Assert.Same(taken, Memory.Find(LocalApic.DefaultBaseAddress)!.Region);
        Assert.Equal(0, _board.Clock.ArmedTimers);
        Memory.Unmap(taken);
        _board.Realize(apic);
        Assert.Equal(0x00050014UL, Memory.Read(LocalApic.DefaultBaseAddress + 0x30, 4));
    }

    [Fact]
    public void Io_apic_at_a_taken_page_fails_and_leaves_nothing_behind()
    {
        var first = _board.Realize(new IoApic());
        var second = new IoApic();
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(second));
        Assert.False(second.Realized);
        Assert.Single(Memory.FlatView);
        first.Unrealize();
        Assert.Empty(Memory.FlatView);
    }

    [Fact]
    public void Unaligned_base_and_apic_id_255_are_refused()
    {
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(new LocalApic { ClockOverride = _board.Clock, BaseAddress = 0xFEE00010 }));
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(new LocalApic { ClockOverride = _board.Clock, ApicId = 255 }));
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(new IoApic { BaseAddress = 0xFEC00100 }));
        Assert.Empty(Memory.FlatView);
        Assert.Equal(0, _board.Clock.ArmedTimers);
    }

    [Fact]
    public void Properties_cannot_change_after_realize()
    {
        var apic = _board.Realize(new LocalApic { ClockOverride = _board.Clock });
        var ioapic = _board.Realize(new IoApic { LocalApic = apic });
        var e = Assert.Throws<InvalidOperationException>(() => apic.BaseAddress = 0xFED00000);
        Assert.Contains("after it was realized", e.Message);
        Assert.Throws<InvalidOperationException>(() => apic.ApicId = 1);
        Assert.Throws<InvalidOperationException>(() => apic.ExtIntSource = null);
        Assert.Throws<InvalidOperationException>(() => ioapic.BaseAddress = 0xFED00000);
        Assert.Throws<InvalidOperationException>(() => ioapic.Version = 0x11);
        Assert.Throws<InvalidOperationException>(() => ioapic.LocalApic = null);
    }

    [Fact]
    public void Apic_id_property_sets_the_id_register_and_the_physical_destination()
    {
        var apic = _board.Realize(new LocalApic { ClockOverride = _board.Clock, ApicId = 3 });
        Assert.Equal(0x03000000UL, Memory.Read(LocalApic.DefaultBaseAddress + 0x20, 4));
        Assert.True(apic.AcceptsDestination(3, logical: false));
        Assert.False(apic.AcceptsDestination(0, logical: false));
    }

    [Fact]
    public void Unrealize_cancels_the_running_timer()
    {
        var apic = _board.Realize(new LocalApic { ClockOverride = _board.Clock });
        Memory.Write(LocalApic.DefaultBaseAddress + 0xF0, 4, 0x1FF);
        Memory.Write(LocalApic.DefaultBaseAddress + 0x320, 4, 0x20030);
        Memory.Write(LocalApic.DefaultBaseAddress + 0x380, 4, 1000);
        Assert.Equal(1, _board.Clock.ArmedTimers);
        apic.Unrealize();
        Assert.Equal(0, _board.Clock.ArmedTimers);
        Assert.Empty(Memory.FlatView);
    }
}
