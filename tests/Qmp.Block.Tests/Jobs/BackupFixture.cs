using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;
using Qmp.Block.Transactions;

namespace Qmp.Block.Tests.Jobs;

/// <summary>Images and helpers the backup and transaction tests share: an 8 MiB source with a pattern per MiB, targets made by qemu-img.</summary>
internal sealed class BackupFixture : IAsyncDisposable
{
    public const int Mib = 1 << 20;

    public TempDirectory Dir { get; } = new();

    public BlockGraph Graph { get; } = new();

    public string PathOf(string name) => Dir.PathOf(name);

    /// <summary>A raw image of <paramref name="mib"/> MiB, MiB i filled with 0x10+i; returns its path.</summary>
    public async Task<string> PatternRawAsync(string name, int mib = 8)
    {
        var path = PathOf(name);
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "raw", path, $"{mib}M");
        var commands = new List<string> { "-f", "raw" };
        for (var i = 0; i < mib; i++)
            commands.AddRange(["-c", $"write -P 0x{0x10 + i:x2} {i}M 1M"]);
        commands.Add(path);
        await Tool(QemuTools.QemuIo, [.. commands]);
        return path;
    }

    public async Task<string> EmptyQcow2Async(string name, int mib = 8, string? backing = null, string? backingFormat = null)
    {
        var path = PathOf(name);
        if (backing is null)
            await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", path, $"{mib}M");
        else
            await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", backing, "-F", backingFormat!, path, $"{mib}M");
        return path;
    }

    public Task<BlockNode> AddRawAsync(string name, string path) =>
        Graph.AddAsync(new RawBlockdevOptions { NodeName = name, File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }) });

    public Task<BlockNode> AddQcow2Async(string name, string path, string? backingNode = null) =>
        Graph.AddAsync(new Qcow2BlockdevOptions
        {
            NodeName = name,
            File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }),
            Backing = backingNode is null ? null : BlockdevRef.To(backingNode),
        });

    /// <summary>blockdev-backup: a transaction of one action; returns the started job.</summary>
    public async Task<BackupJob> BackupAsync(BackupJobOptions options)
    {
        var action = new BackupAction { Options = options };
        await BlockTransaction.RunAsync(Graph, [action], grouped: false);
        return action.Job!;
    }

    public static async Task Tool(string tool, params string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
    }

    /// <summary>qemu-img compare exit code (0 identical, 1 different).</summary>
    public static async Task<int> CompareAsync(string a, string formatA, string b, string formatB)
    {
        var (exit, output) = await QemuTools.RunAsync(QemuTools.QemuImg, "compare", "-U", "-f", formatA, "-F", formatB, a, b);
        Assert.True(exit is 0 or 1, output);
        return exit;
    }

    public async ValueTask DisposeAsync()
    {
        await Graph.DisposeAsync();
        Dir.Dispose();
    }
}
