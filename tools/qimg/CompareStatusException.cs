namespace Qmp.Img;

/// <summary>A block-status query failed during compare (exit code 3, "Sector allocation test failed for …").</summary>
internal sealed class CompareStatusException(string filename) : Exception(filename)
{
    public string Filename { get; } = filename;
}
