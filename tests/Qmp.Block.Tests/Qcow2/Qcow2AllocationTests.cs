using Qmp.Block.File;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>
/// Allocating writes run side by side: clusters are allocated under the allocation lock, the data goes out
/// unlocked, the L2 entries are linked afterwards, and writes to the same guest clusters wait for each other.
/// </summary>
public sealed class Qcow2AllocationTests
{
    private const int Cluster = 65536;

    // Generous: these bound a wait that only a broken driver makes long; nothing here measures time.
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Allocating_writes_to_disjoint_clusters_write_their_data_at_once()
    {
        using var dir = new TempDirectory();
        var path = dir.File("d.qcow2");
        await Qcow2CreateTests.CreateAsync(path, new Qcow2CreateOptions { Size = 4 << 20 });
        var model = new byte[4 << 20];
        await using (var held = await HeldImage.OpenAsync(path))
        {
            var a = Pattern(2 * Cluster, 1);
            var b = Pattern(3 * Cluster, 2);
            var first = held.Node.WriteAsync(0, a).AsTask();
            var second = held.Node.WriteAsync(1 << 20, b).AsTask();
            // Both data writes reach the file before either is let through: neither waited for the other.
            await held.Holder.HeldAsync(2).WaitAsync(s_bound);
            held.Holder.Release();
            await Task.WhenAll(first, second).WaitAsync(s_bound);
            a.CopyTo(model, 0);
            b.CopyTo(model, 1 << 20);
        }
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Allocating_write_waits_for_an_earlier_one_on_the_same_cluster_and_both_land()
    {
        using var dir = new TempDirectory();
        var path = dir.File("o.qcow2");
        await Qcow2CreateTests.CreateAsync(path, new Qcow2CreateOptions { Size = 4 << 20 });
        var model = new byte[4 << 20];
        await using (var held = await HeldImage.OpenAsync(path))
        {
            // Two halves of one unallocated cluster: each alone would allocate it (the other half copied as zeroes).
            var low = Pattern(Cluster / 2, 3);
            var high = Pattern(Cluster / 2, 4);
            var first = held.Node.WriteAsync(Cluster, low).AsTask();
            await held.Holder.HeldAsync(1).WaitAsync(s_bound);
            var second = held.Node.WriteAsync(Cluster + (Cluster / 2), high).AsTask();
            for (var polls = 0; held.Node.AllocationWaits == 0; polls++)
            {
                Assert.True(polls < 3000, "the second write never reached the cluster allocation");
                // Without the dependency the second write would allocate a cluster of its own and be held too.
                Assert.Equal(1, held.Holder.Held);
                Assert.False(second.IsCompleted, "the second write finished while the first was still in flight");
                await Task.Delay(10);
            }
            held.Holder.Release();
            await Task.WhenAll(first, second).WaitAsync(s_bound);
            low.CopyTo(model, Cluster);
            high.CopyTo(model, Cluster + (Cluster / 2));
        }
        // Clean means no leak either: the guest cluster was not allocated twice.
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Reads_and_in_place_writes_go_on_while_an_allocating_write_is_in_flight()
    {
        using var dir = new TempDirectory();
        var path = dir.File("r.qcow2");
        await Qcow2CreateTests.CreateAsync(path, new Qcow2CreateOptions { Size = 4 << 20 });
        var model = new byte[4 << 20];
        await using (var held = await HeldImage.OpenAsync(path, holdFrom: 2 * Cluster))
        {
            var early = Pattern(Cluster, 5);
            await held.Node.WriteAsync(0, early);
            var big = Pattern(4 * Cluster, 6);
            var allocating = held.Node.WriteAsync(2 << 20, big).AsTask();
            await held.Holder.HeldAsync(1).WaitAsync(s_bound);
            var back = new byte[Cluster];
            await held.Node.ReadAsync(0, back).AsTask().WaitAsync(s_bound);
            Assert.Equal(early, back);
            var again = Pattern(Cluster, 7);
            await held.Node.WriteAsync(0, again).AsTask().WaitAsync(s_bound);
            Assert.False(allocating.IsCompleted);
            held.Holder.Release();
            await allocating.WaitAsync(s_bound);
            again.CopyTo(model, 0);
            big.CopyTo(model, 2 << 20);
        }
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    [Theory]
    [InlineData(65536, false)]
    [InlineData(4096, true)]
    public async Task Many_overlapping_and_disjoint_allocating_writes_leave_a_clean_image_with_every_write(int clusterSize, bool backing)
    {
        using var dir = new TempDirectory();
        var size = 32 << 20;
        var model = new byte[size];
        if (backing)
        {
            new Random(9).NextBytes(model);
            await System.IO.File.WriteAllBytesAsync(dir.File("base.raw"), model);
        }
        var path = dir.File("m.qcow2");
        await Qcow2CreateTests.CreateAsync(path, new Qcow2CreateOptions
        {
            Size = size,
            ClusterSize = clusterSize,
            BackingFile = backing ? "base.raw" : null,
            BackingFormat = backing ? "raw" : null,
        });
        await using (var image = await Qcow2Image.OpenAsync(path))
        {
            // Rounds of 16 writes at once, job-sized and guest-sized, unaligned; within a round each byte has one writer,
            // but neighbours share clusters, so allocations of the same clusters overlap.
            var random = new Random(clusterSize);
            for (var round = 0; round < 12; round++)
            {
                var slot = size / 16;
                var writes = Enumerable.Range(0, 16).Select(i =>
                {
                    var length = random.Next(1, slot / 512) * 512;
                    var offset = ((long)i * slot) + (random.Next((slot - length) / 512) * 512L);
                    // Every other round, stretch writes across their neighbour's slot start.
                    if (round % 2 == 1 && i < 15)
                        offset = Math.Min(offset + (slot / 2), ((long)(i + 1) * slot) - 512);
                    length = (int)Math.Min(length, ((long)(i + 1) * slot) + (slot / 4) - offset);
                    var data = Pattern(length, (round * 16) + i + 10);
                    return (offset, data);
                }).ToList();
                // Overlapping writes in one round would leave it open whose data wins: keep only those not overlapping an earlier one.
                var chosen = new List<(long Offset, byte[] Data)>();
                foreach (var w in writes)
                {
                    if (chosen.All(c => w.offset + w.data.Length <= c.Offset || c.Offset + c.Data.Length <= w.offset))
                        chosen.Add(w);
                }
                await Task.WhenAll(chosen.Select(w => Task.Run(() => image.Node.WriteAsync(w.Offset, w.Data).AsTask())));
                foreach (var (offset, data) in chosen)
                    data.CopyTo(model, offset);
            }
            var all = await Qcow2ReadInteropTests.ReadAllAsync(image.Node, 1 << 20);
            Qcow2ReadInteropTests.AssertSameBytes(model, all, "after concurrent allocating writes");
        }
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A qcow2 node over a file whose data writes (at least <c>holdFrom</c> bytes) are held until released.</summary>
    private sealed class HeldImage : IAsyncDisposable
    {
        private readonly FileNode _file;

        private HeldImage(FileNode file, HoldingFileNode holder, Qcow2Node node)
        {
            _file = file;
            Holder = holder;
            Node = node;
        }

        public HoldingFileNode Holder { get; }

        public Qcow2Node Node { get; }

        public static async Task<HeldImage> OpenAsync(string path, int holdFrom = Cluster / 2)
        {
            var file = FileNode.Open(path, readOnly: false, locking: false);
            var holder = new HoldingFileNode(file, holdFrom);
            var node = await Qcow2Node.OpenAsync(holder, readOnly: false, Qcow2OpenOptions.Default, CancellationToken.None);
            // The image's first L2 table is made now, so that only data writes are held afterwards.
            await node.WriteAsync(node.Length - 512, new byte[512]);
            holder.Holding = true;
            return new HeldImage(file, holder, node);
        }

        public async ValueTask DisposeAsync()
        {
            Holder.Release();
            await Node.CloseAsync();
            await Holder.CloseAsync();
            await _file.CloseAsync();
        }
    }
}
