using Qmp.Block.Backends;
using Qmp.Machine.Tests.Devices.Pci;
using static Qmp.Machine.Tests.Devices.Virtio.VirtioBlkTestRig;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioBlkStateTests
{
    [Fact]
    public async Task Kept_requests_and_the_cache_mode_migrate_and_run_on_the_target()
    {
        await using var source = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        await using var target = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        source.Start(DefaultFeatures | (1UL << 9) | (1UL << 11));
        // The driver switches to writethrough; that migrates with the device.
        source.Pci.Memory.Write(VirtioTestDriver.BarAddress + 0x2000 + 32, 1, 0);
        source.Blk.DriveBackend!.ReadOnly = true;
        var data = Enumerable.Range(0, 1024).Select(i => (byte)(i * 3)).ToArray();
        source.Write(0, 0, sector: 12, data, parts: 2);
        source.Read(0, 1, sector: 4, length: 512);
        await source.WaitUsedAsync(0, 1);
        await source.PumpUntilAsync(() => source.Blk.KeptRequests == 1);

        // Guest RAM migrates first, then the device state.
        var ram = new byte[PciTestBoard.RamSize];
        source.Pci.Memory.Read(0, ram);
        target.Pci.Memory.Write(0, ram);
        TestBoard.CopyState(source.Device, target.Device);

        Assert.Equal(1, target.Blk.KeptRequests);
        Assert.False(target.Blk.WriteCacheEnabled);
        Assert.Equal(1, target.Blk.Queues[0].InFlight);
        var driver = new VirtioBlkTestQueue(target.Pci.Memory, 0, 32, 0x10000, 0x11000, 0x12000);
        driver.Resume(availIndex: 2);

        // cont on the target runs the request again from its descriptors.
        target.Control.Resume();
        target.Queues.Add(driver);
        await target.WaitUsedAsync(0, 2);
        Assert.Equal((0u, 1u), driver.UsedElement(1));
        Assert.Equal(StatusOk, target.Status(0, 0));
        Assert.Equal(data, target.ImageBytes(12 * 512, data.Length));
        Assert.Equal(0, target.Blk.Queues[0].InFlight);
        // The source's image never got the write.
        Assert.Equal(Expected(12 * 512, 1024), source.ImageBytes(12 * 512, 1024));
    }

    [Fact]
    public async Task State_without_kept_requests_round_trips()
    {
        await using var source = await CreateAsync();
        await using var target = await CreateAsync();
        source.Start();
        source.Read(0, 0, 1, 512);
        await source.WaitUsedAsync(0, 1);
        var ram = new byte[PciTestBoard.RamSize];
        source.Pci.Memory.Read(0, ram);
        target.Pci.Memory.Write(0, ram);
        TestBoard.CopyState(source.Device, target.Device);
        Assert.Equal(0, target.Blk.KeptRequests);
        Assert.Equal(source.Blk.NegotiatedFeatures, target.Blk.NegotiatedFeatures);
        Assert.False(target.Blk.WriteCacheEnabled);

        var queue = new VirtioBlkTestQueue(target.Pci.Memory, 0, 32, 0x10000, 0x11000, 0x12000);
        queue.Resume(availIndex: 1);
        target.Queues.Add(queue);
        target.Read(0, 1, 2, 512);
        await target.WaitUsedAsync(0, 2);
        Assert.Equal(Expected(1024, 512), target.InData(0, 1, 512));
    }

    [Fact]
    public async Task Requests_not_completed_when_the_state_is_saved_run_again_on_the_target()
    {
        await using var source = await CreateAsync();
        await using var target = await CreateAsync();
        source.Start();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        source.Blk.IoCompletionHook = (_, _) =>
        {
            Interlocked.Increment(ref held);
            return new ValueTask(release.Task);
        };
        source.Read(0, 0, sector: 4, length: 512);
        await source.PumpUntilAsync(() => Volatile.Read(ref held) == 1);

        var ram = new byte[PciTestBoard.RamSize];
        source.Pci.Memory.Read(0, ram);
        target.Pci.Memory.Write(0, ram);
        TestBoard.CopyState(source.Device, target.Device);
        Assert.Equal(1, target.Blk.KeptRequests);
        var queue = new VirtioBlkTestQueue(target.Pci.Memory, 0, 32, 0x10000, 0x11000, 0x12000);
        queue.Resume(availIndex: 1);
        target.Queues.Add(queue);
        target.Control.Resume();
        await target.WaitUsedAsync(0, 1);
        Assert.Equal(Expected(4 * 512, 512), target.InData(0, 0, 512));

        // The source, should the migration fail, still completes it itself.
        release.SetResult();
        await source.WaitUsedAsync(0, 1);
        Assert.Equal(Expected(4 * 512, 512), source.InData(0, 0, 512));
    }

    [Fact]
    public async Task Requests_left_in_the_ring_by_a_drained_source_are_served_when_the_target_starts()
    {
        await using var source = await CreateAsync();
        await using var target = await CreateAsync();
        source.Start();
        using (await Qmp.Block.DrainedSection.BeginAsync(source.Node))
        {
            source.Read(0, 0, sector: 6, length: 512);
            var ram = new byte[PciTestBoard.RamSize];
            source.Pci.Memory.Read(0, ram);
            target.Pci.Memory.Write(0, ram);
            TestBoard.CopyState(source.Device, target.Device);
        }
        Assert.Equal(0, target.Blk.KeptRequests);
        Assert.Equal(0, target.Blk.Queues[0].InFlight);
        target.Queues.Add(new VirtioBlkTestQueue(target.Pci.Memory, 0, 32, 0x10000, 0x11000, 0x12000));
        target.Control.Resume();
        await target.WaitUsedAsync(0, 1);
        Assert.Equal(Expected(6 * 512, 512), target.InData(0, 0, 512));
    }

    [Fact]
    public async Task Kept_request_with_buffers_outside_ram_is_refused()
    {
        await using var source = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        await using var target = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        source.Start();
        source.Blk.DriveBackend!.ReadOnly = true;
        source.Write(0, 0, sector: 12, new byte[512]);
        await source.PumpUntilAsync(() => source.Blk.KeptRequests == 1);
        var ram = new byte[PciTestBoard.RamSize];
        source.Pci.Memory.Read(0, ram);
        target.Pci.Memory.Write(0, ram);
        // Same rings, but the request's data page is no longer RAM on the target.
        target.Pci.Memory.Map(Area(0, 0) + DataOffset, Qmp.Memory.MemoryRegion.Io("hole", 0x1000, new Qmp.Machine.Devices.Pc.DelegateIoHandler((_, _) => 0UL, (_, _, _) => { })), priority: 1);
        var e = Assert.Throws<InvalidDataException>(() => TestBoard.CopyState(source.Device, target.Device));
        Assert.Contains("not in guest RAM", e.Message);
    }
}
