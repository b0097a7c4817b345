using System.Text;
using System.Text.Json;
using Qmp.Block;
using Qmp.Block.Options;
using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Pc;
using Qmp.Machine.Qom;

namespace Qmp.Machine.Tests.Hotplug;

/// <summary>
/// A running pc machine (paused, as with -S) with two root ports (rp1 at 00:02.0, rp2 at 00:03.0), block
/// nodes d0 and d1 and a legacy drive drv0 over raw images, the extra -device options a test gives, an
/// observer recording the hotplug events, and a fake guest that drives the slots through 0xCF8/0xCFC.
/// </summary>
internal sealed class HotplugMachine : IAsyncDisposable
{
    private readonly List<string> _images;

    private HotplugMachine(Machine machine, BlockGraph block, List<string> images)
    {
        Machine = machine;
        Block = block;
        _images = images;
        Guest = new HotplugTestGuest(this);
    }

    public Machine Machine { get; }

    public BlockGraph Block { get; }

    public HotplugObserver Observer { get; } = new();

    public HotplugTestGuest Guest { get; }

    public PcBoard Board => (PcBoard)Machine.Board!;

    public PciHost Host => Board.Devices.OfType<PciHost>().Single();

    public static DeviceConfig Device(string driver, params (string Key, string Value)[] properties) =>
        new(driver, [.. properties.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))]);

    public static async Task<HotplugMachine> StartAsync(params DeviceConfig[] devices)
    {
        var images = new List<string>();
        var block = new BlockGraph();
        foreach (var name in new[] { "d0", "d1", "drv0" })
        {
            var path = Path.Combine(Path.GetTempPath(), $"qmpd-hotplug-{name}-{Guid.NewGuid():N}.img");
            await File.WriteAllBytesAsync(path, [.. Enumerable.Range(0, 1 << 16).Select(i => (byte)i)]);
            images.Add(path);
            var file = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path });
            if (name == "drv0")
                await block.AddDriveAsync(name, new RawBlockdevOptions { File = file });
            else
                await block.AddAsync(new RawBlockdevOptions { NodeName = name, File = file });
        }
        var config = new MachineConfig
        {
            StartPaused = true,
            Devices =
            [
                Device("pcie-root-port", ("id", "rp1"), ("chassis", "1")),
                Device("pcie-root-port", ("id", "rp2"), ("chassis", "2")),
                .. devices,
            ],
        };
        var machine = new Machine(config, board: control => new PcBoard(config, control, _ => throw new InvalidOperationException(), block), block: block);
        var rig = new HotplugMachine(machine, block, images);
        machine.AddObserver(rig.Observer);
        machine.Start();
        return rig;
    }

    public Task<T> OnMachine<T>(Func<T> func) => Machine.InvokeAsync(func);

    public Task OnMachine(Action action) => Machine.InvokeAsync(action);

    public Task AddAsync(string driver, params (string Key, string Value)[] properties) => Machine.DeviceAddAsync(Device(driver, properties));

    /// <summary>
    /// Everything a failed device_add must leave as it was: the QOM tree with every property value, query-pci,
    /// the configuration space of both ports, the block backends and the users of every node.
    /// </summary>
    public Task<string> SnapshotAsync() => OnMachine(() =>
    {
        var text = new StringBuilder();
        foreach (var node in QomBuilder.Build(Machine).Root.Descendants())
        {
            text.Append(node.Path).Append(' ').Append(node.TypeName).Append('\n');
            foreach (var (name, type) in node.List())
                text.Append("  ").Append(name).Append(':').Append(type).Append('=').Append(node.Property(name)?.Get()?.ToJsonString()).Append('\n');
        }
        text.Append(JsonSerializer.Serialize(Host.QueryPci())).Append('\n');
        foreach (var port in Host.Devices.OfType<PcieRootPort>())
            text.Append(port.Id).Append(' ').Append(Convert.ToHexString([.. Enumerable.Range(0, 256).Select(i => (byte)port.HostConfigRead(i, 1))])).Append('\n');
        foreach (var backend in Block.Backends)
            text.Append("backend ").Append(backend.Name).Append(' ').Append(backend.Device?.QomPath).Append('\n');
        foreach (var node in Block.Nodes)
            text.Append("node ").Append(node.NodeName).Append(" users ").Append(node.Users.Count).Append('\n');
        text.Append("pirq ").Append(string.Join(',', Enumerable.Range(0, 4).Select(Host.PirqLevel))).Append('\n');
        return text.ToString();
    });

    public async ValueTask DisposeAsync()
    {
        Machine.Dispose();
        await Block.DisposeAsync();
        foreach (var image in _images)
            File.Delete(image);
    }
}
