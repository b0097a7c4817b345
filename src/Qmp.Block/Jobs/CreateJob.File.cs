using Microsoft.Win32.SafeHandles;
using Qmp.Block.File;

namespace Qmp.Block.Jobs;

public sealed partial class CreateJob
{
    private const ulong DefaultExtentSizeHint = 1 << 20;

    // QEMU's raw_co_create: create or open, lock, truncate to 0, nocow and extent size hint, then grow with preallocation.
    private async Task CreateFileAsync(CreateJobFileOptions options, CancellationToken cancellationToken)
    {
        var hint = options.ExtentSizeHint ?? DefaultExtentSizeHint;
        if (hint > uint.MaxValue)
            throw new BlockException(BlockError.Invalid, "Extent size hint is too large");
        var fd = CreateJobNative.Open(options.Filename, CreateJobNative.ORdWr | CreateJobNative.OCreat | CreateJobNative.OCloexec, Convert.ToInt32("644", 8));
        if (fd < 0)
            throw new BlockException(BlockError.Io, $"Could not create '{options.Filename}': {CreateJobNative.LastError()}");
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        // Write and resize for us; everyone may share anything but resize (QEMU's perm/shared for creation).
        ImageLocks.Apply(handle, options.Filename, BlockPermissions.Write | BlockPermissions.Resize, BlockPermissions.All & ~BlockPermissions.Resize);
        try
        {
            Checked();
            await Task.Run(() => Format(handle, options, (uint)hint), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ImageLocks.Release(handle);
        }
    }

    private static void Format(SafeFileHandle handle, CreateJobFileOptions options, uint hint)
    {
        if (CreateJobNative.Ftruncate(handle, 0) != 0)
            throw new BlockException(BlockError.Io, $"Could not resize file: {CreateJobNative.LastError()}");
        if (options.NoCow)
            CreateJobNative.TrySetNoCow(handle);
        // Not fatal, as in QEMU (which only warns when the hint was asked for explicitly).
        _ = CreateJobNative.TrySetExtentSizeHint(handle, hint);
        if (options.Size > long.MaxValue)
            throw new BlockException(BlockError.Invalid, $"Could not resize file: {CreateJobNative.Strerror(CreateJobNative.EInval)}");
        var size = (long)options.Size;
        switch (options.Preallocation)
        {
            case "falloc":
                if (size > 0 && CreateJobNative.PosixFallocate(handle, 0, size) is var error and not 0)
                    throw new BlockException(BlockError.Io, $"Could not preallocate new data: {CreateJobNative.Strerror(error)}");
                AllocateFirstBlock(handle, size);
                break;
            case "full":
                if (CreateJobNative.Ftruncate(handle, size) != 0)
                    throw new BlockException(BlockError.Io, $"Could not resize file: {CreateJobNative.LastError()}");
                WriteZeroes(handle, size);
                if (CreateJobNative.Fsync(handle) != 0)
                    throw new BlockException(BlockError.Io, $"Could not flush file to disk: {CreateJobNative.LastError()}");
                break;
            case "off":
                if (CreateJobNative.Ftruncate(handle, size) != 0)
                    throw new BlockException(BlockError.Io, $"Could not resize file: {CreateJobNative.LastError()}");
                AllocateFirstBlock(handle, size);
                break;
            default:
                // As in QEMU, found only when growing the file: it exists and is empty by now.
                throw new BlockException(BlockError.NotSupported, $"Unsupported preallocation mode: {options.Preallocation}");
        }
    }

    // QEMU writes the first block so later alignment probing reads real data; failures are ignored.
    private static void AllocateFirstBlock(SafeFileHandle handle, long size)
    {
        var length = (int)Math.Min(size, 4096);
        if (length == 0)
            return;
        try
        {
            RandomAccess.Write(handle, new byte[length], 0);
        }
        catch (IOException)
        {
        }
    }

    private static void WriteZeroes(SafeFileHandle handle, long size)
    {
        var zeroes = new byte[65536];
        for (long offset = 0; offset < size; offset += zeroes.Length)
        {
            var chunk = (int)Math.Min(zeroes.Length, size - offset);
            try
            {
                RandomAccess.Write(handle, zeroes.AsSpan(0, chunk), offset);
            }
            catch (IOException e)
            {
                throw BlockException.FromHost(e, "Could not write zeros for preallocation");
            }
        }
    }
}
