using System.Runtime.InteropServices;

namespace Qmp.Block.Qcow2;

/// <summary>
/// Deflate for compressed qcow2 clusters, through the system zlib (libz.so.1). QEMU writes raw deflate with a
/// 4 KiB window (windowBits -12) and inflates with the same window, so a stream with .NET's 32 KiB window could
/// refer back further than QEMU can follow.
/// </summary>
internal static unsafe partial class Qcow2Zlib
{
    private const string Library = "libz.so.1";
    private const int ZOk = 0;
    private const int ZStreamEnd = 1;
    private const int ZBufError = -5;
    private const int ZFinish = 4;
    private const int ZDeflated = 8;
    private const int ZDefaultCompression = -1;
    private const int ZDefaultStrategy = 0;
    private const int WindowBits = -12;
    private const int MemLevel = 9;

    private static readonly Lazy<string?> _loadError = new(Probe);

    /// <summary>Why zlib cannot be used (null when it can).</summary>
    public static string? LoadError => _loadError.Value;

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/> as QEMU's qcow2_zlib_compress does;
    /// returns the compressed length, or -1 when it does not fit (the caller then writes the data uncompressed).
    /// </summary>
    /// <exception cref="BlockException">zlib is missing or failed.</exception>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (LoadError is { } error)
            throw new BlockException(BlockError.NotSupported, error);
        var stream = default(Qcow2ZStream);
        fixed (byte* input = source)
        fixed (byte* output = destination)
        {
            var version = ZlibVersion();
            if (DeflateInit2(&stream, ZDefaultCompression, ZDeflated, WindowBits, MemLevel, ZDefaultStrategy, version, sizeof(Qcow2ZStream)) != ZOk)
                throw new BlockException(BlockError.Io, "qcow2: zlib could not start a compression stream");
            try
            {
                stream.NextIn = input;
                stream.AvailIn = (uint)source.Length;
                stream.NextOut = output;
                stream.AvailOut = (uint)destination.Length;
                var result = Deflate(&stream, ZFinish);
                if (result == ZStreamEnd)
                    return destination.Length - (int)stream.AvailOut;
                // Z_OK or Z_BUF_ERROR: the output space ran out before the end.
                if (result is ZOk or ZBufError)
                    return -1;
                throw new BlockException(BlockError.Io, $"qcow2: zlib compression failed ({result})");
            }
            finally
            {
                _ = DeflateEnd(&stream);
            }
        }
    }

    private static string? Probe()
    {
        if (!NativeLibrary.TryLoad(Library, typeof(Qcow2Zlib).Assembly, null, out var handle))
            return $"Compression needs zlib, but {Library} could not be loaded";
        NativeLibrary.Free(handle);
        return null;
    }

    [LibraryImport(Library, EntryPoint = "zlibVersion")]
    private static partial byte* ZlibVersion();

    [LibraryImport(Library, EntryPoint = "deflateInit2_")]
    private static partial int DeflateInit2(Qcow2ZStream* stream, int level, int method, int windowBits, int memLevel, int strategy, byte* version, int streamSize);

    [LibraryImport(Library, EntryPoint = "deflate")]
    private static partial int Deflate(Qcow2ZStream* stream, int flush);

    [LibraryImport(Library, EntryPoint = "deflateEnd")]
    private static partial int DeflateEnd(Qcow2ZStream* stream);
}
