namespace Qmp.Block.Tests.Qcow2;

/// <summary>Random writes, zero writes, discards and reads against a node, mirrored in an in-memory model of the guest disk.</summary>
internal sealed class Workload(BlockNode node, byte[] model, int clusterSize, bool version3, bool hasBacking, int seed)
{
    private readonly Random _random = new(seed);

    public int MaxLength { get; init; } = 256 * 1024;

    /// <summary>Whether reads are compared with the model (not when other writers share the node).</summary>
    public bool VerifyReads { get; init; } = true;

    public async Task RunAsync(int operations)
    {
        for (var i = 0; i < operations; i++)
        {
            var (offset, length) = PickRange();
            switch (_random.Next(20))
            {
                case < 12:
                    await WriteAsync(offset, length);
                    break;
                case < 15:
                    var unmap = _random.Next(2) == 0;
                    await node.WriteZeroesAsync(offset, length, unmap ? BlockWriteFlags.MayUnmap : BlockWriteFlags.None);
                    model.AsSpan((int)offset, length).Clear();
                    break;
                case < 17:
                    await node.DiscardAsync(offset, length);
                    ApplyDiscard(offset, length);
                    break;
                default:
                    var buffer = new byte[length];
                    await node.ReadAsync(offset, buffer);
                    if (VerifyReads)
                        Qcow2ReadInteropTests.AssertSameBytes(model.AsSpan((int)offset, length).ToArray(), buffer, $"read at {offset}+{length} after {i} operations");
                    break;
            }
        }
    }

    public async Task WriteAsync(long offset, int length)
    {
        var data = new byte[length];
        if (_random.Next(4) == 0)
            data.AsSpan().Fill((byte)_random.Next(1, 256));
        else
            _random.NextBytes(data);
        await node.WriteAsync(offset, data);
        data.CopyTo(model, offset);
    }

    private (long Offset, int Length) PickRange()
    {
        var size = model.Length;
        var length = _random.Next(4) switch
        {
            0 => _random.Next(1, 4096),
            1 => clusterSize * _random.Next(1, 4),
            _ => _random.Next(1, MaxLength),
        };
        length = Math.Min(length, size);
        long offset = _random.NextInt64(0, size - length + 1);
        if (_random.Next(2) == 0)
        {
            // Sector or cluster aligned, as guests mostly are.
            var alignment = _random.Next(2) == 0 ? 512 : clusterSize;
            offset = offset / alignment * alignment;
            length = Math.Max(512, length / 512 * 512);
            length = (int)Math.Min(length, size - offset);
        }
        return (offset, length);
    }

    // Discard drops whole clusters (the last, partial one too when the range reaches the end of the disk);
    // they read as zeroes unless a v2 image has a backing file, where discard does nothing.
    private void ApplyDiscard(long offset, int length)
    {
        if (!version3 && hasBacking)
            return;
        var end = offset + length;
        var start = (offset + clusterSize - 1) / clusterSize * clusterSize;
        var stop = end == model.Length ? end : end / clusterSize * clusterSize;
        if (stop > start)
            model.AsSpan((int)start, (int)(stop - start)).Clear();
    }
}
