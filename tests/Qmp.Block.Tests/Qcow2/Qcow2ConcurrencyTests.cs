using System.Buffers.Binary;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Many writers at once: allocation and copy-on-write of shared clusters stay consistent.</summary>
public sealed class Qcow2ConcurrencyTests
{
    private const int Sector = 512;

    [Theory]
    [InlineData(65536, false)]
    [InlineData(4096, true)]
    public async Task Concurrent_writers_to_interleaved_ranges_all_land(int clusterSize, bool backing)
    {
        using var dir = new TempDirectory();
        var size = 16 << 20;
        var model = new byte[size];
        if (backing)
        {
            new Random(1).NextBytes(model);
            await System.IO.File.WriteAllBytesAsync(dir.File("base.raw"), model);
        }
        var path = dir.File("c.qcow2");
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions
        {
            Size = size,
            ClusterSize = clusterSize,
            BackingFile = backing ? "base.raw" : null,
            BackingFormat = backing ? "raw" : null,
        }))
        {
            // Task t owns every 8th 4 KiB stripe: neighbours share clusters, so allocations and COW race.
            const int tasks = 8, stripe = 4096;
            var writers = Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
            {
                var random = new Random(t);
                for (var i = 0; i < 60; i++)
                {
                    var first = random.Next(size / stripe / tasks);
                    var count = random.Next(1, 8);
                    for (var s = first; s < first + count && s < size / stripe / tasks; s++)
                    {
                        var offset = ((s * tasks) + t) * stripe;
                        var data = new byte[stripe];
                        random.NextBytes(data);
                        await image.Node.WriteAsync(offset, data);
                        data.CopyTo(model, offset);
                        var check = new byte[stripe];
                        await image.Node.ReadAsync(offset, check);
                        Assert.Equal(data, check);
                    }
                }
            })).ToArray();
            await Task.WhenAll(writers);
            var all = await Qcow2ReadInteropTests.ReadAllAsync(image.Node, 1 << 20);
            Qcow2ReadInteropTests.AssertSameBytes(model, all, "after concurrent writes");
        }
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Concurrent_overlapping_writes_leave_each_sector_from_one_of_its_writers()
    {
        using var dir = new TempDirectory();
        var size = 8 << 20;
        var path = dir.File("o.qcow2");
        var writes = new List<(long Offset, int Length, long Id)>();
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = size }))
        {
            var writers = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
            {
                var random = new Random(100 + t);
                for (var i = 0; i < 40; i++)
                {
                    var length = random.Next(8, 513) * Sector;
                    var offset = (long)random.Next((size - length) / Sector) * Sector;
                    var id = ((long)t << 32) | (uint)(i + 1);
                    var data = new byte[length];
                    for (var p = 0; p < length; p += 8)
                        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(p), id);
                    // Some requests go down as zero writes and discards too, racing with the data.
                    await image.Node.WriteAsync(offset, data);
                    lock (writes)
                        writes.Add((offset, length, id));
                }
            })).ToArray();
            await Task.WhenAll(writers);
        }
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
        await using var reopened = await Qcow2Image.OpenAsync(path, readOnly: true);
        var all = await Qcow2ReadInteropTests.ReadAllAsync(reopened.Node, 1 << 20);
        var byId = writes.ToDictionary(w => w.Id);
        for (var sector = 0; sector < size / Sector; sector++)
        {
            var span = all.AsSpan(sector * Sector, Sector);
            var id = BinaryPrimitives.ReadInt64LittleEndian(span);
            long start = (long)sector * Sector;
            var covering = writes.Count(w => w.Offset <= start && start < w.Offset + w.Length);
            if (id == 0)
            {
                Assert.True(covering == 0 && !span.ContainsAnyExcept((byte)0), $"sector {sector} is zero but {covering} writes covered it");
                continue;
            }
            Assert.True(byId.TryGetValue(id, out var write), $"sector {sector} holds unknown id {id:x}");
            Assert.True(write.Offset <= start && start < write.Offset + write.Length, $"sector {sector} holds id {id:x} from a write that did not cover it");
            for (var p = 8; p < Sector; p += 8)
                Assert.Equal(id, BinaryPrimitives.ReadInt64LittleEndian(span[p..]));
        }
    }

    [Fact]
    public async Task Reads_run_while_allocating_writes_are_in_flight()
    {
        using var dir = new TempDirectory();
        var path = dir.File("r.qcow2");
        await using var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = 8 << 20 });
        var stable = Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 7)).ToArray();
        await image.Node.WriteAsync(0, stable);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var random = new Random(5);
            var data = new byte[65536];
            while (!stop.IsCancellationRequested)
                await image.Node.WriteAsync((1 << 20) + (random.Next(100) * 65536L), data);
        });
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var buffer = new byte[4096];
            var random = new Random(r);
            for (var i = 0; i < 500; i++)
            {
                var offset = random.Next(256) * 4096;
                await image.Node.ReadAsync(offset, buffer);
                Assert.True(stable.AsSpan(offset, 4096).SequenceEqual(buffer));
            }
        })).ToArray();
        await Task.WhenAll(readers);
        await stop.CancelAsync();
        await writer;
    }
}
