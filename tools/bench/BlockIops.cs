using System.Diagnostics;
using Qmp.Block;
using Qmp.Block.Options;

namespace Qmp.Bench;

/// <summary>
/// Our side of <c>qemu-img bench</c>: count requests of one size through the qcow2 driver
/// (opened by the block graph, cache=writeback like qemu-img bench's default), at most <c>depth</c> in
/// flight, request i at offset (i × step) mod image size — the same offsets qemu-img bench uses.
/// </summary>
internal static class BlockIops
{
    public static async Task<double> RunAsync(string image, bool write, int count, int depth, int size, long step)
    {
        await using var graph = new BlockGraph();
        await graph.AddAsync(new FileBlockdevOptions { NodeName = "file", Filename = image, ReadOnly = !write });
        var node = await graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "disk", File = BlockdevRef.To("file"), ReadOnly = !write });
        var imageSize = node.Length;
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, depth).Select(_ => Task.Run(async () =>
        {
            var buffer = new byte[size];
            Array.Fill(buffer, (byte)165);
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var offset = i * step % imageSize;
                if (write)
                    await node.WriteAsync(offset, buffer);
                else
                    await node.ReadAsync(offset, buffer);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
