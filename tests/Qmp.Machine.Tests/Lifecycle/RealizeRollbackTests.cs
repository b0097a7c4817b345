using Qmp.Machine.Devices;
using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Lifecycle;

/// <summary>
/// The seed lesson: a realize that fails at any step leaves nothing behind (no I/O region, no
/// mapping, no asserted IRQ, no host fd, no realized child), and unrealize releases everything.
/// </summary>
public sealed class RealizeRollbackTests
{
    public static TheoryData<int> FailurePoints()
    {
        var data = new TheoryData<int>();
        for (var step = 0; step <= CompositeTestDevice.Steps; step++)
            data.Add(step);
        return data;
    }

    [Theory]
    [MemberData(nameof(FailurePoints))]
    public void Failed_realize_leaves_nothing_behind(int failAt)
    {
        var (context, io, memory, irq) = NewBoard();
        var child = new CompositeTestDevice { Port = 0x310, FailAtStep = failAt == CompositeTestDevice.Steps ? 2 : -1 };
        var device = new CompositeTestDevice { Child = child, FailAtStep = failAt < CompositeTestDevice.Steps ? failAt : -1 };
        var flatBefore = memory.FlatView.Count;

        var e = Assert.Throws<DeviceRealizeException>(() => device.Realize(context));

        Assert.Contains("injected failure", e.Message, StringComparison.Ordinal);
        Assert.False(device.Realized);
        Assert.False(child.Realized);
        Assert.Null(io.Find(0x300));
        Assert.Null(io.Find(0x310));
        Assert.Equal(flatBefore, memory.FlatView.Count);
        Assert.False(irq.Level);
        Assert.Equal(0, OpenFds(device.MemfdName) + OpenFds(child.MemfdName));
        // The same resources are free for a device that realizes properly.
        var again = new CompositeTestDevice { Child = new CompositeTestDevice { Port = 0x310 } };
        again.Realize(context);
        Assert.True(again.Realized);
        again.Unrealize();
    }

    [Fact]
    public void Unrealize_releases_every_resource_and_can_be_repeated()
    {
        var (context, io, memory, irq) = NewBoard();
        var child = new CompositeTestDevice { Port = 0x310 };
        var device = new CompositeTestDevice { Child = child };
        device.Realize(context);
        Assert.NotNull(io.Find(0x300));
        Assert.True(irq.Level);
        Assert.Equal(2, OpenFds(device.MemfdName) + OpenFds(child.MemfdName));
        device.Unrealize();
        device.Unrealize();
        Assert.Null(io.Find(0x300));
        Assert.Null(io.Find(0x310));
        Assert.Single(memory.FlatView);
        Assert.False(irq.Level);
        Assert.Equal(0, OpenFds(device.MemfdName) + OpenFds(child.MemfdName));
    }

    [Fact]
    public void Properties_freeze_after_realize()
    {
        var (context, _, _, _) = NewBoard();
        var device = new Qmp.Machine.Devices.Pc.IsaDebugExit();
        device.Realize(context);
        var e = Assert.Throws<InvalidOperationException>(() => device.IoBase = 0x600);
        Assert.Contains("after it was realized", e.Message, StringComparison.Ordinal);
        device.Unrealize();
    }

    // Fds of this process whose target is the memfd called <paramref name="name"/> (other tests run in parallel, so count only ours).
    private static int OpenFds(string name) =>
        Directory.GetFiles("/proc/self/fd").Count(f => (new FileInfo(f).LinkTarget ?? "").Contains(name, StringComparison.Ordinal));

    private static (DeviceContext Context, PortIoSpace Io, AddressSpace Memory, IrqLine Irq) NewBoard()
    {
        var io = new PortIoSpace();
        var memory = new AddressSpace("memory");
        var ram = RamBlock.CreateAnonymous("ram", 1 << 20);
        memory.Map(0, MemoryRegion.Ram("ram", ram, 0, 1 << 20));
        var irq = new IrqLine(_ => { });
        var context = new DeviceContext
        {
            Memory = memory,
            Io = io,
            Timers = new TimerQueue(new VirtualClock()),
            IsaIrq = _ => irq,
            Control = new Devices.RecordingControl(),
        };
        return (context, io, memory, irq);
    }
}
