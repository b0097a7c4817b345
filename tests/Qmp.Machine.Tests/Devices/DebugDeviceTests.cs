using Qmp.Machine.Devices.Pc;

namespace Qmp.Machine.Tests.Devices;

public sealed class DebugDeviceTests
{
    private readonly TestBoard _board = new();

    [Fact]
    public void Debug_exit_byte_write_exits_with_value_shifted_left_plus_one()
    {
        _board.Realize(new IsaDebugExit());
        _board.Out(0x501, 0x01);
        Assert.Equal(["exit 3"], _board.Control.Calls);
    }

    [Fact]
    public void Debug_exit_uses_the_whole_value_of_a_word_write()
    {
        _board.Realize(new IsaDebugExit());
        _board.Io.Write(0x501, 2, 0x1234);
        Assert.Equal([$"exit {(0x1234 << 1) | 1}"], _board.Control.Calls);
    }

    [Fact]
    public void Debug_exit_honours_its_port_and_size_properties()
    {
        _board.Realize(new IsaDebugExit { IoBase = 0xF4, IoSize = 4 });
        Assert.Equal("isa-debug-exit", _board.Io.Find(0xF7)!.Name);
        _board.Io.Write(0xF4, 4, 0x10);
        Assert.Equal(["exit 33"], _board.Control.Calls);
        Assert.Equal(0u, _board.Io.Read(0xF4, 1));
    }

    [Fact]
    public void Debug_console_sends_bytes_to_the_backend_and_reads_back_0xe9()
    {
        var backend = new TestCharBackend();
        _board.Realize(new DebugConsole { Backend = backend });
        foreach (var c in "ok\n"u8.ToArray())
            _board.Out(0xE9, c);
        Assert.Equal("ok\n"u8.ToArray(), backend.Output);
        Assert.Equal(0xE9, _board.In(0xE9));
    }

    [Fact]
    public void Debug_console_without_backend_drops_output()
    {
        _board.Realize(new DebugConsole { IoBase = 0x402, Readback = 0x42 });
        _board.Out(0x402, 0x41);
        Assert.Equal(0x42, _board.In(0x402));
    }
}
