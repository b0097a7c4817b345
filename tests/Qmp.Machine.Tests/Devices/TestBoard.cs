using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices;

/// <summary>
/// A minimal PC board for device tests: port I/O, memory, a hand-driven clock, a recording
/// machine control, and ISA IRQs that either go to probes or to a real PIC pair.
/// </summary>
internal sealed class TestBoard
{
    private readonly IrqProbe[] _probes = [.. Enumerable.Range(0, 16).Select(_ => new IrqProbe())];

    public TestBoard(bool withPic = false)
    {
        Pic = withPic ? new Pic8259Pair() : null;
        Context = new DeviceContext
        {
            Memory = new AddressSpace("memory"),
            Io = Io,
            Timers = new TimerQueue(new VirtualClock()),
            IsaIrq = n => Pic is { } pic ? pic.Input(n) : _probes[n].Line,
            Control = Control,
        };
        if (Pic is not null)
            Realize(Pic);
    }

    public PortIoSpace Io { get; } = new();

    public ManualClock Clock { get; } = new();

    public RecordingControl Control { get; } = new();

    public Pic8259Pair? Pic { get; }

    public DeviceContext Context { get; }

    public IrqProbe Irq(int n) => _probes[n];

    /// <summary>Realizes <paramref name="device"/> on this board, on the hand-driven clock.</summary>
    public T Realize<T>(T device)
        where T : Device
    {
        switch (device)
        {
            case Pit8254 pit:
                pit.ClockOverride = Clock;
                break;
            case CmosRtc rtc:
                rtc.ClockOverride = Clock;
                break;
            case Uart16550 uart:
                uart.ClockOverride = Clock;
                break;
        }
        device.Realize(Context);
        return device;
    }

    public byte In(ushort port) => (byte)Io.Read(port, 1);

    public void Out(ushort port, byte value) => Io.Write(port, 1, value);

    /// <summary>Saves <paramref name="from"/> and loads the bytes into <paramref name="to"/>.</summary>
    public static void CopyState(IStatefulDevice from, IStatefulDevice to)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            from.SaveState(writer);
        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        to.LoadState(reader, from.StateVersion);
        Assert.Equal(stream.Length, stream.Position);
    }
}
