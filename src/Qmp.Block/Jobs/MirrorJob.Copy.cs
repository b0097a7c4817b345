using System.Buffers;

namespace Qmp.Block.Jobs;

// Copying a range from the source to the target, for the job's loop and for write-blocking guest writes.
public sealed partial class MirrorJob
{
    /// <inheritdoc/>
    ValueTask IBlockWriteNotifier.BeforeWriteAsync(BlockNode node, BlockWriteRequest request, CancellationToken cancellationToken)
    {
        // The job holds the source's size still, as QEMU's mirror takes the resize permission away.
        if (request.Kind == BlockWriteKind.Truncate && !_finished)
            throw new BlockException(BlockError.Permission, $"Node '{node.NodeName}' is busy: block device is in use by block job: {Type}");
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    async ValueTask IBlockWriteNotifier.AfterWriteAsync(BlockNode node, BlockWriteRequest request, bool succeeded, CancellationToken cancellationToken)
    {
        if (request.Kind == BlockWriteKind.Truncate || _finished)
            return;
        if (_copyMode == MirrorCopyMode.Background || !succeeded)
        {
            _bitmap.Set(request.Offset, request.Length);
            return;
        }
        // write-blocking: the range goes to the target before the guest's write completes; if that fails, the job copies it later.
        try
        {
            using (await _ranges.EnterAsync(request.Offset, request.Length, cancellationToken).ConfigureAwait(false))
            {
                var failure = await CopyAsync(request.Offset, request.Length, cancellationToken).ConfigureAwait(false);
                if (failure.Error is not null)
                    _bitmap.Set(request.Offset, request.Length);
            }
        }
        catch (OperationCanceledException)
        {
            _bitmap.Set(request.Offset, request.Length);
            throw;
        }
    }

    // One run of the bitmap, counted in flight, under the error policies: a failed run is dirty again (ignore, stop) or fails the job (report).
    private async Task<(long Copied, long Zeroed)> CopyRunAsync(long offset, long length, CancellationToken cancellationToken)
    {
        // One request in flight for drained sections: once started it runs to its end, since a write-blocking guest
        // write waiting for this range keeps a drain from completing.
        var result = await InFlightAsync(async () =>
        {
            // Once its range is entered, a copy runs to its end even if the job is cancelled meanwhile.
            using (await _ranges.EnterAsync(offset, length, cancellationToken).ConfigureAwait(false))
                return await CopyAsync(offset, length, CancellationToken.None).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            _bitmap.Set(offset, length);
            var action = ApplyErrorPolicy(result.ReadFailed, result.ReadFailed ? _onSourceError : _onTargetError, error);
            if (action == Backends.BlockErrorAction.Report)
                throw error;
            return (0, 0);
        }
        return (result.Copied, result.Zeroed);
    }

    // Copies [offset, offset+length): runs the source reads as zeroes become write-zeroes, data is read and written.
    private async Task<CopyResult> CopyAsync(long offset, long length, CancellationToken cancellationToken)
    {
        var result = new CopyResult();
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, MaxIoBytes));
        try
        {
            for (var at = offset; at < offset + length;)
            {
                var remaining = Math.Min(offset + length - at, MaxIoBytes);
                BlockStatus status;
                try
                {
                    status = await _source.GetStatusAsync(at, remaining, cancellationToken).ConfigureAwait(false);
                }
                catch (BlockException e)
                {
                    return result with { Error = e, ReadFailed = true };
                }
                var run = Math.Clamp(status.Length, 1, remaining);
                var zero = (status.Flags & BlockStatusFlags.Zero) != 0;
                if (!zero)
                {
                    var data = buffer.AsMemory(0, (int)run);
                    try
                    {
                        await _source.ReadAsync(at, data, cancellationToken).ConfigureAwait(false);
                    }
                    catch (BlockException e)
                    {
                        return result with { Error = e, ReadFailed = true };
                    }
                    zero = !data.Span.ContainsAnyExcept((byte)0);
                    if (!zero)
                    {
                        try
                        {
                            await _target.WriteAsync(at, data, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
                        }
                        catch (BlockException e)
                        {
                            return result with { Error = e };
                        }
                        result = result with { Copied = result.Copied + run };
                    }
                }
                if (zero)
                {
                    try
                    {
                        await _target.WriteZeroesAsync(at, run, _unmap ? BlockWriteFlags.MayUnmap : BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
                    }
                    catch (BlockException e)
                    {
                        return result with { Error = e };
                    }
                    result = result with { Zeroed = result.Zeroed + run };
                }
                at += run;
            }
            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private readonly record struct CopyResult(long Copied, long Zeroed, BlockException? Error, bool ReadFailed);
}
