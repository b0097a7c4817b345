namespace Qmp.Block;

/// <summary>
/// Watches the requests that change one node (QEMU does this with filter nodes: mirror_top for mirror's
/// dirty tracking and write-blocking mode, copy-before-write for backup). Both calls run while the
/// request counts as in flight in the node, so a drained section waits for them too.
/// </summary>
public interface IBlockWriteNotifier
{
    /// <summary>
    /// Runs before the node changes; the request waits for it (copy-before-write copies the old data
    /// here). Throwing a <see cref="BlockException"/> fails the request before anything was changed.
    /// </summary>
    ValueTask BeforeWriteAsync(BlockNode node, BlockWriteRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Runs after the node changed or failed to (<paramref name="succeeded"/>); a failed request may still
    /// have changed part of the range. The request completes only after this returns (write-blocking
    /// mirror copies to its target here). Throwing fails a request that succeeded.
    /// </summary>
    ValueTask AfterWriteAsync(BlockNode node, BlockWriteRequest request, bool succeeded, CancellationToken cancellationToken);
}
