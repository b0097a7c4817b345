namespace Qmp.Block;

/// <summary>A block request or graph operation failed; <see cref="Error"/> says how, the message says why.</summary>
public sealed class BlockException : IOException
{
    private readonly string? _reason;

    /// <summary>Creates the exception.</summary>
    public BlockException(BlockError error, string message, Exception? inner = null, string? reason = null)
        : base(message, inner)
    {
        Error = error;
        _reason = reason;
    }

    /// <summary>The class of failure (ENOSPC matters to werror=enospc).</summary>
    public BlockError Error { get; }

    /// <summary>The strerror text QEMU puts in BLOCK_IO_ERROR's reason.</summary>
    public string Reason => _reason ?? Error switch
    {
        BlockError.NoSpace => "No space left on device",
        BlockError.Permission => "Operation not permitted",
        BlockError.Invalid => "Invalid argument",
        BlockError.NotSupported => "Operation not supported",
        _ => "Input/output error",
    };

    /// <summary>
    /// The first line of <paramref name="exception"/>'s message: what QMP replies, events and one-line errors carry.
    /// Some block errors add QEMU's hint lines (an image lock's "Is another process using the image?"), which
    /// QEMU prints on a terminal only.
    /// </summary>
    public static string Summary(Exception exception) => exception.Message.Split('\n')[0];

    /// <summary>Maps a host I/O exception onto a block error (ENOSPC is recognised by its HResult).</summary>
    public static BlockException FromHost(Exception exception, string what)
    {
        if (exception is BlockException block)
            return block;
        // .NET reports errno in the low 16 bits of the HResult for Unix I/O errors.
        const int efbig = 27, enospc = 28, edquot = 122;
        var errno = exception.HResult & 0xFFFF;
        var error = errno is enospc or edquot ? BlockError.NoSpace : BlockError.Io;
        // Past the file-size limit: QEMU reports strerror(EFBIG) and treats it like EIO.
        return new BlockException(error, $"{what}: {exception.Message}", exception, errno == efbig ? "File too large" : null);
    }
}
