using Qmp.Memory;

namespace Qmp.Memory.Tests;

public sealed class PageResidencyTests
{
    [Fact]
    public void Pages_never_written_are_untouched_and_written_ones_are_not()
    {
        using var block = RamBlock.CreateAnonymous("pc.ram", 256 * PageSize.Bytes);
        using var residency = PageResidency.Open();
        block.Write(3 * PageSize.Bytes + 100, [1]);
        block.Write(200 * PageSize.Bytes, [2]);
        Span<long> untouched = stackalloc long[4];

        Assert.True(residency.TryReadUntouched(block, 0, 256, untouched));

        Assert.Equal(0, untouched[0] & (1L << 3));
        Assert.Equal(0, untouched[200 / 64] & (1L << (200 % 64)));
        Assert.NotEqual(0, untouched[0] & (1L << 4));
        Assert.NotEqual(0, untouched[3] & (1L << 63));
    }

    [Fact]
    public void A_window_starting_inside_the_block_is_numbered_from_its_first_page()
    {
        using var block = RamBlock.CreateAnonymous("pc.ram", 256 * PageSize.Bytes);
        using var residency = PageResidency.Open();
        block.Write(130 * PageSize.Bytes, [1]);
        Span<long> untouched = stackalloc long[1];

        Assert.True(residency.TryReadUntouched(block, 128, 64, untouched));

        Assert.Equal(~(1L << 2), untouched[0]);
    }

    [Fact]
    public void Discarded_pages_are_untouched_again()
    {
        using var block = RamBlock.CreateAnonymous("pc.ram", 64 * PageSize.Bytes);
        using var residency = PageResidency.Open();
        block.GetSpan(0, 64 * PageSize.Bytes).Fill(0xaa);
        Span<long> untouched = stackalloc long[1];
        Assert.True(residency.TryReadUntouched(block, 0, 64, untouched));
        Assert.Equal(0, untouched[0]);

        Assert.True(block.Discard());

        Assert.True(residency.TryReadUntouched(block, 0, 64, untouched));
        Assert.Equal(-1L, untouched[0]);
    }

    [Fact]
    public void Memfd_ram_is_never_reported_untouched()
    {
        using var block = RamBlock.CreateMemfd("mem0", 64 * PageSize.Bytes, share: false);
        using var residency = PageResidency.Open();
        Span<long> untouched = stackalloc long[1];
        untouched[0] = 5;

        Assert.False(residency.TryReadUntouched(block, 0, 64, untouched));

        Assert.Equal(0, untouched[0]);
    }
}
