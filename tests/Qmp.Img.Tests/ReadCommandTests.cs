using Qmp.TestSupport;

namespace Qmp.Img.Tests;

/// <summary>info and map on QEMU-made images: the same text and JSON as qemu-img, byte for byte.</summary>
public sealed class ReadCommandTests : IAsyncLifetime
{
    private Scratch _scratch = null!;

    public async Task InitializeAsync() => _scratch = await SampleImages.SharedAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Info_matches_in_every_output_form()
    {
        foreach (var image in SampleImages.All)
        {
            await Tools.SameAsync(_scratch.Root, "info", image);
            await Tools.SameAsync(_scratch.Root, "info", "--output=json", image);
        }
        await Tools.SameAsync(_scratch.Root, "info", "--backing-chain", "overlay.qcow2");
        await Tools.SameAsync(_scratch.Root, "info", "--backing-chain", "--output=json", "overlay.qcow2");
        await Tools.SameAsync(_scratch.Root, "info", "-U", "-f", "raw", "overlay.qcow2");
    }

    [Fact]
    public async Task Map_matches_with_data_zero_unallocated_and_backing()
    {
        foreach (var image in SampleImages.All)
        {
            await Tools.SameAsync(_scratch.Root, "map", "--output=json", image);
            await Tools.SameAsync(_scratch.Root, "map", image);
        }
        var json = await Tools.SameAsync(_scratch.Root, "map", "--output=json", "overlay.qcow2");
        Assert.Contains("\"depth\": 1, \"present\": true, \"zero\": false, \"data\": true", json.Stdout);
        Assert.Contains("\"depth\": 0, \"present\": true, \"zero\": true, \"data\": false", json.Stdout);
        await Tools.SameAsync(_scratch.Root, "map", "--output=json", "--start-offset=64k", "--max-length=4M", "overlay.qcow2");
    }

    [Theory]
    [InlineData("info")]
    [InlineData("info", "a", "b")]
    [InlineData("info", "--output=xml", "base.qcow2")]
    [InlineData("info", "nonexist")]
    [InlineData("info", "-f", "qcow2", "odd.raw")]
    [InlineData("info", "-x", "base.qcow2")]
    [InlineData("map", "--output", "xml", "base.qcow2")]
    [InlineData("bogus")]
    public async Task Errors_match(params string[] args) => Assert.NotEqual(0, (await Tools.SameAsync(_scratch.Root, args)).ExitCode);

    [Fact]
    public async Task Locks_conflict_with_a_qemu_writer_unless_force_share()
    {
        // A copy of its own: the shared images must stay unlocked for the other tests.
        using var scratch = new Scratch();
        File.Copy(_scratch.PathOf("base.qcow2"), scratch.PathOf("locked.qcow2"));
        await using var holder = await QemuIoHolder.OpenAsync(Tools.QemuIo, ["locked.qcow2"], scratch.Root);
        Assert.Equal(1, (await Tools.SameAsync(scratch.Root, "info", "locked.qcow2")).ExitCode);
        Assert.Equal(0, (await Tools.SameAsync(scratch.Root, "info", "-U", "locked.qcow2")).ExitCode);
        Assert.Equal(0, (await Tools.SameAsync(scratch.Root, "map", "-U", "locked.qcow2")).ExitCode);
    }
}
