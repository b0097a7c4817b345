using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pc;

namespace Qmp.Machine.Tests.Devices;

public sealed class LifecycleTests
{
    private readonly TestBoard _board = new();

    [Fact]
    public void Second_uart_at_a_taken_port_fails_and_leaves_the_first_in_place()
    {
        var first = _board.Realize(new Uart16550 { Index = 0 });
        var backend = new TestCharBackend();
        var second = new Uart16550 { Index = 0, Backend = backend };
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(second));
        Assert.False(second.Realized);
        Assert.True(first.Realized);
        Assert.Null(backend.Received);
        Assert.Null(backend.CanReceive);
        _board.Out(0x3FF, 0x77);
        Assert.Equal(0x77, _board.In(0x3FF));
        Assert.Equal(0, _board.Clock.ArmedTimers);
    }

    [Fact]
    public void Failure_after_mapping_ports_unmaps_them()
    {
        var backend = new TestCharBackend();
        _board.Realize(new DebugConsole { Backend = backend });
        backend.Received = _ => { };  // another frontend owns the chardev
        var uart = new Uart16550 { Index = 1, Backend = backend };
        var e = Assert.Throws<DeviceRealizeException>(() => _board.Realize(uart));
        Assert.Contains("in use", e.Message);
        for (ushort port = 0x2F8; port < 0x300; port++)
            Assert.Null(_board.Io.Find(port));
        Assert.NotNull(backend.Received);
    }

    [Fact]
    public void Unrealize_frees_every_port_and_timer()
    {
        var pic = new Pic8259Pair();
        _board.Realize(pic);
        var pit = _board.Realize(new Pit8254());
        var rtc = _board.Realize(new CmosRtc());
        var uart = _board.Realize(new Uart16550 { Index = 0, Backend = new TestCharBackend() });
        Assert.True(_board.Clock.ArmedTimers > 0);
        pic.Unrealize();
        pit.Unrealize();
        rtc.Unrealize();
        uart.Unrealize();
        foreach (ushort port in (ushort[])[0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x40, 0x43, 0x70, 0x71, 0x3F8, 0x3FF])
        {
            Assert.Null(_board.Io.Find(port));
            Assert.Equal(0xFF, _board.In(port));
        }
        Assert.Equal(0, _board.Clock.ArmedTimers);
    }

    [Fact]
    public void Unrealize_releases_the_backend_for_another_frontend()
    {
        var backend = new TestCharBackend();
        var uart = _board.Realize(new Uart16550 { Index = 0, Backend = backend });
        uart.Unrealize();
        Assert.Null(backend.Received);
        _board.Realize(new Uart16550 { Index = 1, Backend = backend });
        Assert.NotNull(backend.Received);
    }

    [Fact]
    public void Device_can_be_realized_again_after_unrealize()
    {
        var kbc = _board.Realize(new I8042());
        kbc.Unrealize();
        _board.Realize(kbc);
        _board.Out(0x64, 0xFE);
        Assert.Equal(["reset GuestReset"], _board.Control.Calls);
    }

    [Fact]
    public void Properties_cannot_change_after_realize()
    {
        var uart = _board.Realize(new Uart16550 { Index = 0 });
        var e = Assert.Throws<InvalidOperationException>(() => uart.Index = 1);
        Assert.Contains("after it was realized", e.Message);
        var exit = _board.Realize(new IsaDebugExit());
        Assert.Throws<InvalidOperationException>(() => exit.IoBase = 0x600);
    }

    [Fact]
    public void Uart_index_out_of_range_is_refused()
    {
        var e = Assert.Throws<DeviceRealizeException>(() => _board.Realize(new Uart16550 { Index = 4 }));
        Assert.Contains("Max. supported number of ISA serial ports is 4", e.Message);
    }

    [Fact]
    public void Irq_above_15_is_refused()
    {
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(new CmosRtc { Irq = 16 }));
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(new Uart16550 { Index = 0, Irq = 16 }));
        Assert.Null(_board.Io.Find(0x70));
        Assert.Null(_board.Io.Find(0x3F8));
    }

    [Fact]
    public void Speaker_needs_a_pit()
    {
        Assert.Throws<DeviceRealizeException>(() => _board.Realize(new PcSpeaker()));
        Assert.Null(_board.Io.Find(0x61));
    }

    [Fact]
    public void Type_names_are_qemus()
    {
        Assert.Equal("isa-i8259", new Pic8259Pair().TypeName);
        Assert.Equal("isa-pit", new Pit8254().TypeName);
        Assert.Equal("isa-pcspk", new PcSpeaker().TypeName);
        Assert.Equal("mc146818rtc", new CmosRtc().TypeName);
        Assert.Equal("isa-serial", new Uart16550().TypeName);
        Assert.Equal("i8042", new I8042().TypeName);
        Assert.Equal("isa-debug-exit", new IsaDebugExit().TypeName);
        Assert.Equal("isa-debugcon", new DebugConsole().TypeName);
    }

    [Fact]
    public void Devices_on_a_pic_board_interrupt_the_cpu()
    {
        var board = new TestBoard(withPic: true);
        var pic = board.Pic!;
        board.Out(0x20, 0x11);
        board.Out(0x21, 0x08);
        board.Out(0x21, 0x04);
        board.Out(0x21, 0x01);
        board.Out(0xA0, 0x11);
        board.Out(0xA1, 0x70);
        board.Out(0xA1, 0x02);
        board.Out(0xA1, 0x01);
        board.Realize(new Pit8254());
        board.Realize(new CmosRtc());
        board.Out(0x70, 0x0B);
        board.Out(0x71, 0x12);
        board.Clock.Advance(1_000_000_000);
        Assert.True(pic.IsPending);
        // The PIT's IRQ 0 outranks the RTC's IRQ 8.
        Assert.Equal(0x08, pic.Acknowledge());
        board.Out(0x20, 0x20);
        Assert.Equal(0x70, pic.Acknowledge());
    }
}
