using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>Runs qemu-img and qemu-io for the mirror tests, failing the test with the tool's output.</summary>
internal static class MirrorTestImages
{
    public static async Task ToolAsync(string tool, params string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
    }
}
