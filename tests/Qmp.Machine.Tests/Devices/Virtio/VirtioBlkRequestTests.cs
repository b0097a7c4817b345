using static Qmp.Machine.Tests.Devices.Virtio.VirtioBlkTestRig;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioBlkRequestTests
{
    [Fact]
    public async Task Read_returns_the_image_data_and_the_whole_writable_length()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        var head = rig.Read(0, 0, sector: 3, length: 1024);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal((head, 1025u), rig.Queues[0].UsedElement(0));
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal(Expected(3 * 512, 1024), rig.InData(0, 0, 1024));
        Assert.Equal(0, rig.Blk.InFlightRequests);
        Assert.Equal(0, rig.Blk.Queues[0].InFlight);
    }

    [Fact]
    public async Task Write_gathered_from_several_buffers_lands_in_the_image()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        var data = Enumerable.Range(0, 2048).Select(i => (byte)(i * 13)).ToArray();
        rig.Write(0, 0, sector: 5, data, parts: 3);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal((0u, 1u), rig.Queues[0].UsedElement(0));
        Assert.Equal(data, rig.ImageBytes(5 * 512, 2048));
        Assert.Equal(Expected(4 * 512, 512), rig.ImageBytes(4 * 512, 512));
        Assert.Equal(Expected(9 * 512, 512), rig.ImageBytes(9 * 512, 512));

        rig.Read(0, 1, sector: 5, length: 2048);
        await rig.WaitUsedAsync(0, 2);
        Assert.Equal(data, rig.InData(0, 1, 2048));
    }

    [Fact]
    public async Task Flush_completes_through_the_backend()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Submit(0, 0, TypeFlush, 0);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal(1, rig.Blk.DriveBackend!.Stats.FlushOperations);
    }

    [Fact]
    public async Task Get_id_returns_the_serial_nul_terminated_when_it_fits()
    {
        await using var rig = await CreateAsync(d => d.Serial = "vd-serial");
        rig.Start();
        rig.Submit(0, 0, TypeGetId, 0, inData: 20);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal((0u, 21u), rig.Queues[0].UsedElement(0));
        Assert.Equal("vd-serial\0"u8.ToArray(), rig.InData(0, 0, 10));
    }

    [Fact]
    public async Task Get_id_cuts_a_long_serial_at_20_bytes_without_nul()
    {
        await using var rig = await CreateAsync(d => d.Serial = "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        rig.Start();
        rig.Pci.Memory.Write(Area(0, 0) + DataOffset + 20, 1, 0x77);
        rig.Submit(0, 0, TypeGetId, 0, inData: 24);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal("ABCDEFGHIJKLMNOPQRST"u8.ToArray(), rig.InData(0, 0, 20));
    }

    [Fact]
    public async Task Write_zeroes_clears_the_range_with_or_without_unmap()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Segments(0, 0, TypeWriteZeroes, (16, 4, 0));
        rig.Segments(0, 1, TypeWriteZeroes, (32, 8, 1));
        await rig.WaitUsedAsync(0, 2);
        Assert.Equal(new[] { StatusOk, StatusOk }, new[] { rig.Status(0, 0), rig.Status(0, 1) });
        Assert.Equal(new byte[4 * 512], rig.ImageBytes(16 * 512, 4 * 512));
        Assert.Equal(new byte[8 * 512], rig.ImageBytes(32 * 512, 8 * 512));
        Assert.Equal(Expected(20 * 512, 512), rig.ImageBytes(20 * 512, 512));
    }

    [Fact]
    public async Task Discard_reaches_the_backend()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Segments(0, 0, TypeDiscard, (8, 8, 0));
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal(1, rig.Blk.DriveBackend!.Stats.UnmapOperations);
        Assert.Equal(8 * 512, rig.Blk.DriveBackend!.Stats.UnmapBytes);
    }

    [Theory]
    [InlineData(TypeDiscard, 8u, 8u, 1u, StatusUnsupported)]
    [InlineData(TypeWriteZeroes, 8u, 8u, 2u, StatusUnsupported)]
    [InlineData(TypeWriteZeroes, 2040u, 9u, 0u, StatusIoError)]
    [InlineData(TypeDiscard, 0u, 65u, 0u, StatusIoError)]
    [InlineData(TypeDiscard & ~TypeOut, 0u, 1u, 0u, StatusUnsupported)]
    public async Task Bad_discard_and_write_zeroes_segments_get_qemus_status(uint type, ulong sector, uint count, uint flags, byte status)
    {
        await using var rig = await CreateAsync(d => d.MaxDiscardSectors = 64);
        rig.Start();
        rig.Segments(0, 0, type, (sector, count, flags));
        Assert.Equal(status, rig.Status(0, 0));
        Assert.Equal(1, rig.Queues[0].UsedIndex);
        Assert.Equal(0, rig.Blk.InFlightRequests);
    }

    [Fact]
    public async Task Discard_with_two_segments_or_switched_off_is_unsupported()
    {
        await using var rig = await CreateAsync(d => d.Discard = false);
        rig.Start();
        rig.Segments(0, 0, TypeWriteZeroes, (0, 1, 0), (8, 1, 0));
        rig.Segments(0, 1, TypeDiscard, (0, 1, 0));
        Assert.Equal(new[] { StatusUnsupported, StatusUnsupported }, new[] { rig.Status(0, 0), rig.Status(0, 1) });
    }

    [Theory]
    [InlineData(TypeIn, 2047ul, 1024)]
    [InlineData(TypeIn, 2049ul, 512)]
    [InlineData(TypeIn, 0ul, 100)]
    [InlineData(TypeOut, 2047ul, 1024)]
    public async Task Requests_outside_the_disk_or_not_in_whole_sectors_fail_with_ioerr(uint type, ulong sector, int length)
    {
        await using var rig = await CreateAsync();
        rig.Start();
        if (type == TypeIn)
            rig.Read(0, 0, sector, length);
        else
            rig.Write(0, 0, sector, new byte[length]);
        Assert.Equal(StatusIoError, rig.Status(0, 0));
        Assert.Equal(1, rig.Queues[0].UsedIndex);
        Assert.Equal(Expected(2047 * 512, 512), rig.ImageBytes(2047 * 512, 512));
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(10u)]
    [InlineData(0x20u)]
    public async Task Unknown_request_types_are_unsupported(uint type)
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Submit(0, 0, type, 0, inData: 512);
        Assert.Equal(StatusUnsupported, rig.Status(0, 0));
        Assert.Equal((0u, 513u), rig.Queues[0].UsedElement(0));
    }

    [Fact]
    public async Task Barrier_flag_is_ignored_as_qemu_does()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Submit(0, 0, 0x80000000u | TypeIn, 1, inData: 512);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal(Expected(512, 512), rig.InData(0, 0, 512));
    }

    [Fact]
    public async Task Request_without_a_writable_status_breaks_the_device()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Queues[0].WriteDescriptor(rig.Queues[0].Descriptors, 0, Area(0, 0), 16);
        rig.Queues[0].MakeAvailable(0);
        rig.Driver.Notify(0);
        Assert.True(rig.Blk.Broken);
        Assert.Equal("virtio-blk missing headers", rig.Blk.LastError);
        Assert.NotEqual(0, rig.Driver.Status & VirtioTestDriver.NeedsReset);
    }

    [Fact]
    public async Task Short_header_breaks_the_device()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        var q = rig.Queues[0];
        q.WriteDescriptor(q.Descriptors, 0, Area(0, 0), 8, VirtioTestDriver.Next, 1);
        q.WriteDescriptor(q.Descriptors, 1, Area(0, 0) + 0x10, 1, VirtioTestDriver.Write);
        q.MakeAvailable(0);
        rig.Driver.Notify(0);
        Assert.Equal("virtio-blk request outhdr too short", rig.Blk.LastError);
    }

    [Fact]
    public async Task Indirect_descriptors_carry_a_read()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        var head = rig.Read(0, 2, sector: 9, length: 1536, indirect: true);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal((head, 1537u), rig.Queues[0].UsedElement(0));
        Assert.Equal(Expected(9 * 512, 1536), rig.InData(0, 2, 1536));
    }

    [Fact]
    public async Task Many_requests_in_flight_all_complete_in_their_slots()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        for (var slot = 0; slot < 8; slot++)
            rig.Submit(0, slot, TypeIn, (ulong)(slot * 10), inData: 4096, notify: false);
        rig.Driver.Notify(0);
        await rig.WaitUsedAsync(0, 8);
        for (var slot = 0; slot < 8; slot++)
        {
            Assert.Equal(StatusOk, rig.Status(0, slot));
            Assert.Equal(Expected(slot * 10 * 512, 4096), rig.InData(0, slot, 4096));
        }
        Assert.Equal(8, rig.Blk.DriveBackend!.Stats.ReadOperations);
    }

    [Fact]
    public async Task Requests_over_the_memory_budget_wait_for_earlier_ones_and_keep_their_order()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Blk.MaxBytesInFlight = 4096;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Blk.IoCompletionHook = (_, _) => new ValueTask(release.Task);
        rig.Read(0, 0, 0, 4096);
        rig.Read(0, 1, 8, 4096);
        rig.Submit(0, 2, TypeFlush, 0);
        await rig.PumpUntilAsync(() => rig.Blk.InFlightRequests == 1);
        // The flush needs no buffer but stays behind the read that waits, as the guest ordered them.
        Assert.Equal(2, rig.Blk.PendingRequests);
        release.SetResult();
        await rig.WaitUsedAsync(0, 3);
        Assert.Equal(Expected(0, 4096), rig.InData(0, 0, 4096));
        Assert.Equal(Expected(8 * 512, 4096), rig.InData(0, 1, 4096));
        Assert.Equal(StatusOk, rig.Status(0, 2));
        Assert.Equal(0, rig.Blk.PendingRequests);
    }

    [Fact]
    public async Task Each_queue_of_a_multiqueue_device_completes_on_its_own_ring()
    {
        await using var rig = await CreateAsync(d => d.NumQueues = 2);
        rig.Start(DefaultFeatures | (1UL << 12), queues: 2);
        var data = Enumerable.Repeat((byte)0xA5, 512).ToArray();
        rig.Write(1, 0, sector: 100, data);
        rig.Read(0, 0, sector: 200, length: 512);
        await rig.WaitUsedAsync(1, 1);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal((StatusOk, StatusOk), (rig.Status(0, 0), rig.Status(1, 0)));
        Assert.Equal(1, rig.Queues[0].UsedIndex);
        Assert.Equal(1, rig.Queues[1].UsedIndex);
        Assert.Equal(Expected(200 * 512, 512), rig.InData(0, 0, 512));
        Assert.Equal(data, rig.ImageBytes(100 * 512, 512));
    }
}
