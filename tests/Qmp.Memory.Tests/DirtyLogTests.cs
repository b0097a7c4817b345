using Qmp.Memory;

namespace Qmp.Memory.Tests;

public sealed class DirtyLogTests
{
    private const ulong RamBase = 0x100000;

    // Every way guest RAM can be written must leave the page dirty.
    public static TheoryData<string> WritePaths => new()
    {
        "block-write", "notify", "space-write-1", "space-write-4", "space-write-8", "space-span", "load-image", "span-crossing-pages",
    };

    [Theory]
    [MemberData(nameof(WritePaths))]
    public void Every_write_path_marks_the_page_dirty(string path)
    {
        using var block = RamBlock.CreateAnonymous("ram", 16 * 4096);
        var space = new AddressSpace("memory");
        space.Map(RamBase, MemoryRegion.Ram("ram", block, 0, (ulong)block.Size));
        block.Dirty.Start(DirtyClient.Migration, allDirty: false);
        const long page = 5;
        var address = RamBase + page * 4096 + 100;
        switch (path)
        {
            case "block-write": block.Write(page * 4096 + 100, [1, 2]); break;
            case "notify": block.NotifyWritten(page * 4096 + 100, 1); break;
            case "space-write-1": space.Write(address, 1, 0xAB); break;
            case "space-write-4": space.Write(address, 4, 0xDEADBEEF); break;
            case "space-write-8": space.Write(address, 8, ulong.MaxValue); break;
            case "space-span": space.Write(address, [9, 9, 9]); break;
            case "load-image": space.LoadImage(address, [7]); break;
            case "span-crossing-pages": space.Write(RamBase + page * 4096 - 1, [1, 2]); break;
        }
        Assert.True(block.Dirty.IsDirty(DirtyClient.Migration, page));
        Assert.Equal(path == "span-crossing-pages" ? 2 : 1, block.Dirty.Count(DirtyClient.Migration));
    }

    [Fact]
    public void Nothing_is_recorded_while_logging_is_off()
    {
        using var block = RamBlock.CreateAnonymous("ram", 4 * 4096);
        block.Write(0, [1]);
        Assert.False(block.Dirty.AnyEnabled);
        block.Dirty.Start(DirtyClient.Migration, allDirty: false);
        Assert.Equal(0, block.Dirty.Count(DirtyClient.Migration));
        block.Dirty.Stop(DirtyClient.Migration);
        block.Write(0, [1]);
        Assert.Equal(0, block.Dirty.Count(DirtyClient.Migration));
    }

    [Fact]
    public void Start_with_all_dirty_marks_exactly_every_page()
    {
        using var block = RamBlock.CreateAnonymous("ram", 70 * 4096);
        block.Dirty.Start(DirtyClient.Migration, allDirty: true);
        Assert.Equal(70, block.Dirty.Count(DirtyClient.Migration));
    }

    [Fact]
    public void Test_and_clear_reports_each_write_once()
    {
        using var block = RamBlock.CreateAnonymous("ram", 4 * 4096);
        block.Dirty.Start(DirtyClient.Migration, allDirty: false);
        block.Write(4096, [1]);
        Assert.True(block.Dirty.TestAndClear(DirtyClient.Migration, 1));
        Assert.False(block.Dirty.TestAndClear(DirtyClient.Migration, 1));
        block.Write(4096, [1]);
        Assert.True(block.Dirty.TestAndClear(DirtyClient.Migration, 1));
    }

    [Fact]
    public void Clients_keep_separate_bitmaps()
    {
        using var block = RamBlock.CreateAnonymous("ram", 4 * 4096);
        block.Dirty.Start(DirtyClient.Migration, allDirty: false);
        block.Dirty.Start(DirtyClient.Vga, allDirty: false);
        block.Write(0, [1]);
        Assert.True(block.Dirty.TestAndClear(DirtyClient.Vga, 0));
        Assert.True(block.Dirty.IsDirty(DirtyClient.Migration, 0));
    }

    [Fact]
    public async Task Concurrent_writers_lose_no_page()
    {
        using var block = RamBlock.CreateAnonymous("ram", 1024 * 4096);
        block.Dirty.Start(DirtyClient.Migration, allDirty: false);
        // Neighbouring pages share bitmap words, so two writers racing on one word must both land.
        var even = Task.Run(() => { for (var p = 0; p < 1024; p += 2) block.NotifyWritten(p * 4096L, 1); });
        var odd = Task.Run(() => { for (var p = 1; p < 1024; p += 2) block.NotifyWritten(p * 4096L, 1); });
        await Task.WhenAll(even, odd);
        Assert.Equal(1024, block.Dirty.Count(DirtyClient.Migration));
    }

    [Fact]
    public void Sync_moves_dirty_bits_into_the_pending_bitmap_and_clears_the_log()
    {
        using var block = RamBlock.CreateAnonymous("ram", 130 * 4096);
        block.Dirty.Start(DirtyClient.Migration, allDirty: false);
        block.NotifyWritten(3 * 4096, 1);
        block.NotifyWritten(129 * 4096, 1);
        var pending = new long[3];
        pending[0] = 1L << 3;

        var added = block.Dirty.SyncInto(DirtyClient.Migration, pending);

        Assert.Equal(1, added);
        Assert.Equal(1L << 3, pending[0]);
        Assert.Equal(1L << 1, pending[2]);
        Assert.Equal(0, block.Dirty.Count(DirtyClient.Migration));
        block.NotifyWritten(3 * 4096, 1);
        Assert.True(block.Dirty.IsDirty(DirtyClient.Migration, 3));
    }
}
