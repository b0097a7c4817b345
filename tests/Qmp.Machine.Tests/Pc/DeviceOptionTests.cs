using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Pc;

namespace Qmp.Machine.Tests.Pc;

/// <summary>-device options go through the devices' QOM properties, with QEMU's error texts.</summary>
public sealed class DeviceOptionTests
{
    [Theory]
    [InlineData("isa-debug-exit", "iobase", "0x10000", "Property 'isa-debug-exit.iobase' doesn't take value '0x10000'")]
    [InlineData("isa-debug-exit", "iobase", "abc", "Property 'isa-debug-exit.iobase' doesn't take value 'abc'")]
    [InlineData("isa-debug-exit", "foo", "1", "Property 'isa-debug-exit.foo' not found")]
    [InlineData("virtio-rng-pci", "addr", "zz", "Property 'virtio-rng-pci.addr' doesn't take value 'zz'")]
    [InlineData("virtio-rng-pci", "bus", "pci.7", "Bus 'pci.7' not found")]
    [InlineData("isa-serial", "index", "1", "'isa-serial' is not a valid device model name")]
    public void Bad_device_options_are_refused_with_qemus_text(string driver, string key, string value, string message)
    {
        var config = new MachineConfig { Devices = [new DeviceConfig(driver, [new(key, value)])] };
        var e = Assert.Throws<MachineOperationException>(() => new PcBoard(config, new Devices.RecordingControl(), _ => throw new InvalidOperationException()));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Device_properties_take_hex_and_decimal_values()
    {
        var config = new MachineConfig { Devices = [new DeviceConfig("isa-debug-exit", [new("id", "dbg"), new("iobase", "0xf4"), new("iosize", "4")])] };
        using var board = new PcBoard(config, new Devices.RecordingControl(), _ => throw new InvalidOperationException());
        var device = Assert.Single(board.Devices.OfType<IsaDebugExit>());
        Assert.Equal(("dbg", (ushort)0xF4, 4), (device.Id, device.IoBase, device.IoSize));
        Assert.True(device.Realized);
    }
}
