using System.Globalization;
using Qmp.Block;

namespace Qmp.Img;

/// <summary>
/// The copy loop of <c>qemu-img convert</c> (convert_do_copy): the sources, concatenated, are walked by block
/// status in chunks of at most 2 MiB; zero runs are skipped on a zero-initialised target (or written as
/// zeroes), data is read, scanned for sparse runs and written. Several workers (-m, default 8) keep reads in
/// flight; writes happen in target order unless out-of-order writes (-W) are allowed.
/// </summary>
internal sealed class ConvertJob
{
    private const int BufferSize = 2 << 20;

    private readonly IReadOnlyList<ImageHandle> _sources;
    private readonly BlockNode _target;
    private readonly ConvertSettings _settings;
    private readonly Progress _progress;
    private readonly SemaphoreSlim _planLock = new(1, 1);
    private readonly object _turnLock = new();
    private readonly Dictionary<long, TaskCompletionSource> _turnWaiters = [];
    private readonly CancellationTokenSource _abort = new();
    private readonly long _totalBytes;
    private int _sourceIndex;
    private long _sourceStart;
    private long _offset;
    private long _statusEnd = -1;
    private bool _statusData;
    private long _nextIndex;
    private long _written;
    private long _allocatedBytes;
    private long _allocatedDone;
    private Exception? _failure;

    public ConvertJob(IReadOnlyList<ImageHandle> sources, BlockNode target, ConvertSettings settings, Progress progress)
    {
        _sources = sources;
        _target = target;
        _settings = settings;
        _progress = progress;
        _totalBytes = sources.Sum(s => SourceLength(s.Root));
    }

    /// <summary>The bytes the target must hold: the sources' sizes, each rounded up to a whole sector as QEMU counts them.</summary>
    public static long SourceLength(BlockNode node) => BlockStatusQuery.VirtualLength(node);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_settings.ShowProgress)
            _allocatedBytes = await CountAllocatedAsync(cancellationToken).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        using var buffers = new IoBufferPool(BufferSize);
        var workers = new Task[_settings.Workers];
        for (var i = 0; i < workers.Length; i++)
            workers[i] = Task.Run(() => WorkAsync(buffers, linked.Token), CancellationToken.None);
        await Task.WhenAll(workers.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        if (_failure is not null)
            throw _failure;
    }

    private async Task WorkAsync(IoBufferPool buffers, CancellationToken cancellationToken)
    {
        var buffer = buffers.Rent();
        try
        {
            while (true)
            {
                ConvertChunk? chunk;
                await _planLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    chunk = await NextChunkAsync(cancellationToken).ConfigureAwait(false);
                    if (chunk is not null && (chunk.Data || !_settings.DetectZeroes) && _allocatedBytes > 0)
                    {
                        // Progress counts requests as they are issued, as QEMU's does.
                        _allocatedDone += chunk.Length;
                        _progress.Print((float)(100.0 * _allocatedDone / _allocatedBytes), 0);
                    }
                }
                finally
                {
                    _planLock.Release();
                }
                if (chunk is null)
                    return;
                var data = buffer.Memory[..(int)Math.Min(chunk.Length, BufferSize)];
                if (chunk.Data)
                    await ReadAsync(chunk, data, cancellationToken).ConfigureAwait(false);
                if (_settings.InOrder)
                    await WaitTurnAsync(chunk.Index, cancellationToken).ConfigureAwait(false);
                await WriteAsync(chunk, data, cancellationToken).ConfigureAwait(false);
                if (_settings.InOrder)
                    EndTurn(chunk.Index);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !_abort.IsCancellationRequested)
        {
            Fail(e);
        }
        catch (OperationCanceledException)
        {
            // Another worker failed first.
        }
        finally
        {
            buffers.Return(buffer);
        }
    }

    // convert_iteration_sectors: the next run of one status within one source, at most a buffer for data.
    private async ValueTask<ConvertChunk?> NextChunkAsync(CancellationToken cancellationToken)
    {
        while (_sourceIndex < _sources.Count && _offset >= _sourceStart + SourceLength(_sources[_sourceIndex].Root))
        {
            _sourceStart += SourceLength(_sources[_sourceIndex].Root);
            _sourceIndex++;
            _statusEnd = -1;
        }
        if (_offset >= _totalBytes || _sourceIndex >= _sources.Count)
            return null;
        var source = _sources[_sourceIndex];
        var sourceLength = SourceLength(source.Root);
        var inSource = _offset - _sourceStart;
        if (_statusEnd <= _offset)
            await QueryStatusAsync(source, inSource, sourceLength, cancellationToken).ConfigureAwait(false);
        var length = _statusEnd - _offset;
        if (_statusData)
            length = Math.Min(length, BufferSize);
        var chunk = new ConvertChunk(_nextIndex++, _offset, length, _statusData, source.Root, inSource);
        _offset += length;
        return chunk;
    }

    private async ValueTask QueryStatusAsync(ImageHandle source, long inSource, long sourceLength, CancellationToken cancellationToken)
    {
        var node = source.Root;
        if (inSource >= node.Length)
        {
            // The sector-rounded tail past a source's end reads as zeroes.
            _statusData = false;
            _statusEnd = _sourceStart + sourceLength;
            return;
        }
        RangeStatus status;
        try
        {
            status = await BlockStatusQuery.AboveAsync(node, inSource, node.Length - inSource, cancellationToken).ConfigureAwait(false);
        }
        catch (BlockException e)
        {
            throw new ImgException(string.Create(CultureInfo.InvariantCulture, $"error while reading block status at offset {inSource}: {e.Reason}"));
        }
        // Not zero and not data (unallocated without zero): qemu-img copies it as data; with -S 0 zeroes too.
        _statusData = !status.Zero || !_settings.DetectZeroes;
        var end = inSource + status.Length;
        if (end >= node.Length)
            end = sourceLength;
        _statusEnd = _sourceStart + end;
    }

    private async Task ReadAsync(ConvertChunk chunk, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var available = (int)Math.Clamp(chunk.Source.Length - chunk.SourceOffset, 0, buffer.Length);
        try
        {
            if (available > 0)
                await chunk.Source.ReadAsync(chunk.SourceOffset, buffer[..available], cancellationToken).ConfigureAwait(false);
        }
        catch (BlockException e)
        {
            throw new ImgException(string.Create(CultureInfo.InvariantCulture, $"error while reading at byte {chunk.SourceOffset}: {e.Reason}"));
        }
        buffer.Span[available..].Clear();
    }

    // convert_co_write: data in sparse-scanned runs; zero runs skipped on a zero-initialised target, else zeroed.
    private async Task WriteAsync(ConvertChunk chunk, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var offset = chunk.Offset;
        var done = 0L;
        try
        {
            while (done < chunk.Length)
            {
                var remaining = chunk.Length - done;
                var run = remaining;
                var write = chunk.Data;
                if (chunk.Data && _settings.DetectZeroes)
                {
                    var sectors = (int)((remaining + SparseScanner.SectorSize - 1) / SparseScanner.SectorSize);
                    write = SparseScanner.NextRun(buffer.Span[(int)done..(int)chunk.Length], sectors, (offset + done) / SparseScanner.SectorSize,
                        _settings.MinSparseSectors, _settings.AlignmentSectors, out var runSectors);
                    run = Math.Min((long)runSectors * SparseScanner.SectorSize, remaining);
                }
                if (write)
                    await _target.WriteAsync(offset + done, buffer.Slice((int)done, (int)run), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
                else if (!_settings.TargetZeroInitialized)
                    await _target.WriteZeroesAsync(offset + done, run, BlockWriteFlags.MayUnmap, cancellationToken).ConfigureAwait(false);
                done += run;
            }
        }
        catch (BlockException e)
        {
            throw new ImgException(string.Create(CultureInfo.InvariantCulture, $"error while writing at byte {offset + done}: {e.Reason}"));
        }
    }

    private Task WaitTurnAsync(long index, CancellationToken cancellationToken)
    {
        lock (_turnLock)
        {
            if (_written == index)
                return Task.CompletedTask;
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _turnWaiters[index] = waiter;
            return waiter.Task.WaitAsync(cancellationToken);
        }
    }

    private void EndTurn(long index)
    {
        TaskCompletionSource? next;
        lock (_turnLock)
        {
            _written = index + 1;
            _turnWaiters.Remove(index + 1, out next);
        }
        next?.TrySetResult();
    }

    private void Fail(Exception e)
    {
        lock (_turnLock)
            _failure ??= e;
        _abort.Cancel();
    }

    // The first pass QEMU makes for -p: how many bytes will be copied, so the percentage can be computed.
    private async Task<long> CountAllocatedAsync(CancellationToken cancellationToken)
    {
        var total = 0L;
        foreach (var source in _sources)
        {
            var node = source.Root;
            for (var offset = 0L; offset < node.Length;)
            {
                var status = await BlockStatusQuery.AboveAsync(node, offset, node.Length - offset, cancellationToken).ConfigureAwait(false);
                if (!status.Zero || !_settings.DetectZeroes)
                    total += status.Length;
                offset += status.Length;
            }
            if (!_settings.DetectZeroes)
                total += SourceLength(node) - node.Length;
        }
        return total;
    }
}
