using Qmp.Block;
using Qmp.Block.Backends;
using static Qmp.Machine.Tests.Devices.Virtio.VirtioBlkTestRig;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioBlkDrainTests
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Drained_section_waits_for_requests_in_flight_and_pops_nothing_until_it_ends()
    {
        await using var rig = await CreateAsync();
        // EVENT_IDX: once the device stops popping, the guest does not notify again for later requests.
        rig.Start();
        // The backend has done the I/O; the requests wait before completing.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        rig.Blk.IoCompletionHook = (_, _) =>
        {
            Interlocked.Increment(ref held);
            return new ValueTask(release.Task);
        };
        for (var slot = 0; slot < 3; slot++)
            rig.Read(0, slot, (ulong)(slot * 8), 512);
        await rig.PumpUntilAsync(() => Volatile.Read(ref held) == 3);
        Assert.True(rig.Blk.DrainedPoll());

        var drain = DrainedSection.BeginAsync(rig.Node);
        await Task.Delay(50);
        Assert.False(drain.IsCompleted);
        Assert.True(rig.Blk.DriveBackend!.Quiesced);

        // Requests made available during the section are not taken, notified or not.
        var data = Enumerable.Repeat((byte)0x5A, 512).ToArray();
        rig.Read(0, 3, 30, 512);
        rig.Write(0, 4, 40, data);
        Assert.Equal(3, rig.Blk.Queues[0].InFlight);

        release.SetResult();
        var section = await drain.WaitAsync(_timeout);
        try
        {
            Assert.False(rig.Blk.DrainedPoll());
            Assert.Equal(0, rig.Blk.DriveBackend.InFlight);
            // The completions were posted before the section was granted.
            rig.RunPosted();
            Assert.Equal(3, rig.Queues[0].UsedIndex);
            rig.Driver.Notify(0);
            rig.RunPosted();
            Assert.Equal(3, rig.Queues[0].UsedIndex);
            Assert.Equal(0, rig.Blk.Queues[0].InFlight);
            Assert.Equal(Expected(40 * 512, 512), rig.ImageBytes(40 * 512, 512));
        }
        finally
        {
            section.Dispose();
        }

        // No new notification: the end of the section looks at the ring by itself.
        await rig.WaitUsedAsync(0, 5);
        for (var slot = 0; slot < 5; slot++)
            Assert.Equal(StatusOk, rig.Status(0, slot));
        Assert.Equal(Expected(30 * 512, 512), rig.InData(0, 3, 512));
        Assert.Equal(data, rig.ImageBytes(40 * 512, 512));
    }

    [Fact]
    public async Task Nested_sections_hold_the_device_until_the_outermost_ends()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        var outer = await DrainedSection.BeginAsync(rig.Node).WaitAsync(_timeout);
        var inner = await DrainedSection.BeginAsync(rig.Node).WaitAsync(_timeout);
        rig.Read(0, 0, 1, 512);
        inner.Dispose();
        rig.RunPosted();
        Assert.Equal(0, rig.Blk.Queues[0].InFlight);
        outer.Dispose();
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(Expected(512, 512), rig.InData(0, 0, 512));
    }

    [Fact]
    public async Task Requests_retried_during_a_section_wait_for_its_end()
    {
        await using var rig = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        rig.Start();
        var backend = rig.Blk.DriveBackend!;
        backend.ReadOnly = true;
        rig.Write(0, 0, 3, Enumerable.Repeat((byte)7, 512).ToArray());
        await rig.PumpUntilAsync(() => rig.Blk.KeptRequests == 1);
        backend.ReadOnly = false;

        var section = await DrainedSection.BeginAsync(rig.Node).WaitAsync(_timeout);
        rig.Control.Resume();
        Assert.Equal(0, rig.Blk.KeptRequests);
        Assert.Equal(1, rig.Blk.PendingRequests);
        Assert.False(rig.Blk.DrainedPoll());
        section.Dispose();
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal(Enumerable.Repeat((byte)7, 512), rig.ImageBytes(3 * 512, 512));
    }

    [Fact]
    public async Task Sections_racing_with_guest_requests_neither_hang_nor_lose_requests()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        const int perRound = 4;
        for (var round = 0; round < 40; round++)
        {
            for (var slot = 0; slot < perRound; slot++)
                rig.Read(0, slot, (ulong)((round * 13) + slot) % 2000, 4096);
            // The drain starts on another thread while this one plays the machine thread.
            var drain = Task.Run(() => DrainedSection.BeginAsync(rig.Node));
            await rig.PumpUntilAsync(() => drain.IsCompleted);
            var section = await drain;
            Assert.False(rig.Blk.DrainedPoll());
            Assert.Equal(0, rig.Node.InFlight);
            section.Dispose();
            await rig.WaitUsedAsync(0, (round + 1) * perRound);
        }
        Assert.Equal(0, rig.Blk.InFlightRequests);
        Assert.Equal(0, rig.Blk.PendingRequests);
        for (var slot = 0; slot < perRound; slot++)
            Assert.Equal(StatusOk, rig.Status(0, slot));
    }
}
