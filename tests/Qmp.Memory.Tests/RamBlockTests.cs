using Qmp.Memory;

namespace Qmp.Memory.Tests;

public sealed class RamBlockTests
{
    [Fact]
    public void Anonymous_ram_starts_zeroed()
    {
        using var block = RamBlock.CreateAnonymous("pc.ram", 1 << 20);
        Assert.Equal(-1, block.Fd);
        Assert.True(block.GetSpan(0, 1 << 20).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void Shared_memfd_ram_is_visible_through_the_fd()
    {
        using var block = RamBlock.CreateMemfd("mem0", 64 << 10, share: true);
        block.Write(0x1234, "qmpd"u8);
        var seen = new byte[4];
        using (var file = File.OpenRead($"/proc/self/fd/{block.Fd}"))
        {
            file.Position = 0x1234;
            file.ReadExactly(seen);
        }
        Assert.Equal("qmpd"u8.ToArray(), seen);
    }

    [Fact]
    public void Private_memfd_ram_keeps_writes_out_of_the_file()
    {
        using var block = RamBlock.CreateMemfd("mem0", 64 << 10, share: false);
        Assert.True(block.Fd >= 0);
        block.Write(0, "qmpd"u8);
        var seen = new byte[4];
        using (var file = File.OpenRead($"/proc/self/fd/{block.Fd}"))
            file.ReadExactly(seen);
        Assert.Equal(new byte[4], seen);
    }

    [Fact]
    public void Size_must_be_whole_pages()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RamBlock.CreateAnonymous("x", 4097));
        Assert.Throws<ArgumentOutOfRangeException>(() => RamBlock.CreateAnonymous("x", 0));
    }

    [Fact]
    public void Access_outside_the_block_is_refused()
    {
        using var block = RamBlock.CreateAnonymous("x", 8192);
        Assert.Throws<ArgumentOutOfRangeException>(() => block.GetSpan(8190, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => block.GetSpan(-1, 1));
    }

    [Fact]
    public void Writes_to_code_pages_are_reported_with_the_page()
    {
        using var block = RamBlock.CreateAnonymous("x", 4 * 4096);
        var reported = new List<long>();
        block.CodeWritten += (_, page) => reported.Add(page);
        block.SetCodePage(2);
        block.Write(4096, new byte[10]);
        Assert.Empty(reported);
        block.Write(2 * 4096 - 2, new byte[4]);
        Assert.Equal([2L], reported);
        block.ClearCodePage(2);
        block.Write(2 * 4096, new byte[1]);
        Assert.Single(reported);
    }

    [Fact]
    public void Discard_makes_anonymous_ram_read_as_zero_and_leaves_memfd_ram_alone()
    {
        using var anonymous = RamBlock.CreateAnonymous("ram", 4 * 4096);
        anonymous.Write(4096, [1, 2, 3]);
        Assert.True(anonymous.Discard());
        Assert.False(anonymous.GetSpan(0, 4 * 4096).ContainsAnyExcept((byte)0));

        using var memfd = RamBlock.CreateMemfd("shared", 4096, share: true);
        memfd.Write(0, [7]);
        Assert.False(memfd.Discard());
        Assert.Equal(7, memfd.GetSpan(0, 1)[0]);
    }
}
