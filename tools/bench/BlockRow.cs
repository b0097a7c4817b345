namespace Qmp.Bench;

/// <summary>One line of the block benchmark's table: samples of ours and QEMU's (seconds) for a fixed amount of work.</summary>
internal sealed class BlockRow(string name, long bytes, int requests)
{
    public string Name { get; } = name;

    public long Bytes { get; } = bytes;

    /// <summary>Requests per run (0 for whole-image commands, where IOPS means nothing).</summary>
    public int Requests { get; } = requests;

    public List<double> Ours { get; } = [];

    public List<double> Qemu { get; } = [];
}
