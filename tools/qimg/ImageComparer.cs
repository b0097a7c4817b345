using System.Globalization;
using Qmp.Block;
using Qmp.Block.File;

namespace Qmp.Img;

/// <summary>
/// img_compare's loop over two open images: steps planned from both chains' block status, reads for up to
/// eight steps running ahead of the step being checked, results taken strictly in order so the first
/// difference reported is qemu-img's.
/// </summary>
internal sealed class ImageComparer(ImageHandle image1, ImageHandle image2, bool strict, bool quiet, Progress progress)
{
    private const int BufferSize = 2 << 20;
    private const int Window = 8;

    private readonly IoBufferPool _buffers = new(BufferSize);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var size1 = BlockStatusQuery.VirtualLength(image1.Root);
        var size2 = BlockStatusQuery.VirtualLength(image2.Root);
        var progressBase = Math.Max(size1, size2);
        progress.Print(0, 100);
        if (strict && size1 != size2)
        {
            Say("Strict mode: Image size mismatch!\n");
            return 1;
        }
        var pending = new Queue<(CompareChunk Chunk, Task<(AlignedBuffer?, AlignedBuffer?)> Read)>();
        try
        {
            await using var plan = PlanAsync(size1, size2, cancellationToken).GetAsyncEnumerator(cancellationToken);
            var more = true;
            while (true)
            {
                // Keep up to Window reads running ahead of the comparison.
                while (more && pending.Count < Window)
                {
                    more = await plan.MoveNextAsync().ConfigureAwait(false);
                    if (more)
                        pending.Enqueue((plan.Current, ReadAsync(plan.Current, cancellationToken)));
                }
                if (pending.Count == 0)
                    break;
                var (chunk, read) = pending.Dequeue();
                var exit = await CheckAsync(chunk, read).ConfigureAwait(false);
                if (exit is { } code)
                    return code;
                if (chunk.Kind is not (CompareChunkKind.SizeWarning or CompareChunkKind.StatusMismatch))
                    progress.Print((float)chunk.Length / progressBase * 100, 100);
            }
        }
        catch (CompareStatusException e)
        {
            Terminal.Report($"Sector allocation test failed for {e.Filename}");
            return 3;
        }
        finally
        {
            foreach (var (_, read) in pending)
                await Release(read).ConfigureAwait(false);
            _buffers.Dispose();
        }
        Say("Images are identical.\n");
        return 0;
    }

    // The steps of qemu-img's loop: by status over the common part, then the larger image's tail.
    private async IAsyncEnumerable<CompareChunk> PlanAsync(long size1, long size2, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var total = Math.Min(size1, size2);
        var offset = 0L;
        while (offset < total)
        {
            var status1 = await StatusAsync(image1, offset, size1 - offset, cancellationToken).ConfigureAwait(false);
            var status2 = await StatusAsync(image2, offset, size2 - offset, cancellationToken).ConfigureAwait(false);
            var chunk = Math.Min(status1.Length, status2.Length);
            if (strict && status1.Bits != status2.Bits)
            {
                yield return new CompareChunk(CompareChunkKind.StatusMismatch, offset, 0);
                yield break;
            }
            if (status1.Zero && status2.Zero)
            {
                yield return new CompareChunk(CompareChunkKind.Skip, offset, chunk);
            }
            else if (status1.Allocated == status2.Allocated)
            {
                if (status1.Allocated)
                    chunk = Math.Min(chunk, BufferSize);
                yield return new CompareChunk(status1.Allocated ? CompareChunkKind.Both : CompareChunkKind.Skip, offset, chunk);
            }
            else
            {
                chunk = Math.Min(chunk, BufferSize);
                var (node, name) = status1.Allocated ? (image1.Root, image1.Path) : (image2.Root, image2.Path);
                yield return new CompareChunk(CompareChunkKind.MustBeZero, offset, chunk, node, name);
            }
            offset += chunk;
        }
        if (size1 == size2)
            yield break;
        yield return new CompareChunk(CompareChunkKind.SizeWarning, offset, 0);
        var over = size1 > size2 ? image1 : image2;
        var end = Math.Max(size1, size2);
        while (offset < end)
        {
            var status = await StatusAsync(over, offset, end - offset, cancellationToken).ConfigureAwait(false);
            var chunk = status.Length;
            if (status.Allocated && !status.Zero)
            {
                chunk = Math.Min(chunk, BufferSize);
                yield return new CompareChunk(CompareChunkKind.MustBeZero, offset, chunk, over.Root, over.Path);
            }
            else
            {
                yield return new CompareChunk(CompareChunkKind.Skip, offset, chunk);
            }
            offset += chunk;
        }
    }

    private static async ValueTask<RangeStatus> StatusAsync(ImageHandle image, long offset, long bytes, CancellationToken cancellationToken)
    {
        try
        {
            return await BlockStatusQuery.AboveAsync(image.Root, offset, bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (BlockException)
        {
            throw new CompareStatusException(image.Path);
        }
    }

    private async Task<(AlignedBuffer?, AlignedBuffer?)> ReadAsync(CompareChunk chunk, CancellationToken cancellationToken)
    {
        switch (chunk.Kind)
        {
            case CompareChunkKind.Both:
            {
                var (buffer1, buffer2) = (_buffers.Rent(), _buffers.Rent());
                var length = (int)chunk.Length;
                var read1 = ReadOneAsync(image1.Root, image1.Path, chunk.Offset, buffer1.Memory[..length], cancellationToken);
                var read2 = ReadOneAsync(image2.Root, image2.Path, chunk.Offset, buffer2.Memory[..length], cancellationToken);
                try
                {
                    await read1.ConfigureAwait(false);
                }
                finally
                {
                    // Both reads end before the buffers can go back to the pool.
                    await read2.ConfigureAwait(false);
                }
                return (buffer1, buffer2);
            }
            case CompareChunkKind.MustBeZero:
            {
                var buffer = _buffers.Rent();
                await ReadOneAsync(chunk.Node!, chunk.Name!, chunk.Offset, buffer.Memory[..(int)chunk.Length], cancellationToken).ConfigureAwait(false);
                return (buffer, null);
            }
            default:
                return (null, null);
        }
    }

    private static async Task ReadOneAsync(BlockNode node, string name, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            // The sector-rounded tail of an odd-sized image reads as zeroes.
            var available = (int)Math.Clamp(node.Length - offset, 0, buffer.Length);
            if (available > 0)
                await node.ReadAsync(offset, buffer[..available], cancellationToken).ConfigureAwait(false);
            buffer.Span[available..].Clear();
        }
        catch (BlockException e)
        {
            throw new CompareReadException(string.Create(CultureInfo.InvariantCulture, $"Error while reading offset {offset} of {name}: {e.Reason}"));
        }
    }

    // One step in order; an exit code ends the comparison.
    private async Task<int?> CheckAsync(CompareChunk chunk, Task<(AlignedBuffer?, AlignedBuffer?)> read)
    {
        (AlignedBuffer? First, AlignedBuffer? Second) buffers;
        try
        {
            buffers = await read.ConfigureAwait(false);
        }
        catch (CompareReadException e)
        {
            Terminal.Report(e.Message);
            return 4;
        }
        try
        {
            var length = (int)chunk.Length;
            switch (chunk.Kind)
            {
                case CompareChunkKind.StatusMismatch:
                    Say(string.Create(CultureInfo.InvariantCulture, $"Strict mode: Offset {chunk.Offset} block status mismatch!\n"));
                    return 1;
                case CompareChunkKind.SizeWarning:
                    Say("Warning: Image size mismatch!\n");
                    return null;
                case CompareChunkKind.Both:
                    return Mismatch(chunk.Offset, FirstDifference(buffers.First!.Memory.Span[..length], buffers.Second!.Memory.Span[..length]));
                case CompareChunkKind.MustBeZero:
                    return Mismatch(chunk.Offset, buffers.First!.Memory.Span[..length].IndexOfAnyExcept((byte)0));
                default:
                    return null;
            }
        }
        finally
        {
            if (buffers.First is not null)
                _buffers.Return(buffers.First);
            if (buffers.Second is not null)
                _buffers.Return(buffers.Second);
        }
    }

    // qemu-img reports the start of the first 512-byte sector that differs.
    private int? Mismatch(long offset, int index)
    {
        if (index < 0)
            return null;
        Say(string.Create(CultureInfo.InvariantCulture, $"Content mismatch at offset {offset + (index / 512 * 512)}!\n"));
        return 1;
    }

    private static int FirstDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var common = a.CommonPrefixLength(b);
        return common == a.Length ? -1 : common;
    }

    private async Task Release(Task<(AlignedBuffer?, AlignedBuffer?)> read)
    {
        try
        {
            var (first, second) = await read.ConfigureAwait(false);
            if (first is not null)
                _buffers.Return(first);
            if (second is not null)
                _buffers.Return(second);
        }
        catch (CompareReadException)
        {
            // A read after the first difference: nobody needs its result.
        }
    }

    private void Say(string text)
    {
        if (!quiet)
            Terminal.Out.Write(text);
    }
}
