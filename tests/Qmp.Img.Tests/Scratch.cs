namespace Qmp.Img.Tests;

/// <summary>A scratch directory on disk (/var/tmp: hole punching and SEEK_HOLE behave as on a real image store), removed on dispose.</summary>
internal sealed class Scratch : IDisposable
{
    public Scratch()
    {
        Root = Path.Combine("/var/tmp", $"qimg-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>Writes <paramref name="length"/> deterministic pseudo-random bytes at <paramref name="offset"/> of <paramref name="name"/> (created sparse if new).</summary>
    public void WriteRandom(string name, long offset, int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        using var stream = new FileStream(PathOf(name), FileMode.OpenOrCreate, FileAccess.Write);
        stream.Position = offset;
        stream.Write(bytes);
    }

    /// <summary>Makes <paramref name="name"/> exactly <paramref name="length"/> bytes (sparse growth).</summary>
    public void SetLength(string name, long length)
    {
        using var stream = new FileStream(PathOf(name), FileMode.OpenOrCreate, FileAccess.Write);
        stream.SetLength(length);
    }

    public byte[] Read(string name) => File.ReadAllBytes(PathOf(name));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A tool may still be letting go of a file; /var/tmp is cleaned anyway.
        }
    }
}
