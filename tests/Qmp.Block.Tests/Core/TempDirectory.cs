namespace Qmp.Block.Tests.Core;

/// <summary>
/// A scratch directory on a disk filesystem (/var/tmp: tmpfs refuses O_DIRECT and hole punching behaves
/// differently there), removed with everything in it on dispose.
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Root = Path.Combine("/var/tmp", $"qmpd-block-core-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>Creates <paramref name="name"/> holding <paramref name="contents"/>.</summary>
    public string CreateFile(string name, byte[] contents)
    {
        var path = PathOf(name);
        System.IO.File.WriteAllBytes(path, contents);
        return path;
    }

    /// <summary>Creates a sparse file of <paramref name="size"/> bytes that reads as zeroes.</summary>
    public string CreateSparse(string name, long size)
    {
        var path = PathOf(name);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        stream.SetLength(size);
        return path;
    }

    /// <summary>Bytes 0..n-1 of a deterministic pseudo-random pattern.</summary>
    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still be letting go of a file; the directory is under /var/tmp anyway.
        }
    }
}
