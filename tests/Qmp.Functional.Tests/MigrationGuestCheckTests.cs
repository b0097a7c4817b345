namespace Qmp.Functional.Tests;

/// <summary>The single-step checker on hand-made memory images.</summary>
public sealed class MigrationGuestCheckTests
{
    private const long Start = 1L << 20;
    private const long End = 2L << 20;
    private const int Pages = (int)((End - Start) / MigrationGuestCheck.PageSize);

    /// <summary>A dump of [0, End) with page i of the region holding <paramref name="value"/>(i).</summary>
    private static byte[] Dump(Func<int, byte> value)
    {
        var dump = new byte[End];
        for (var i = 0; i < Pages; i++)
            dump[Start + (i * MigrationGuestCheck.PageSize)] = value(i);
        return dump;
    }

    [Fact]
    public void Memory_after_whole_passes_passes_without_an_edge()
    {
        var result = MigrationGuestCheck.Check(Dump(_ => 7), 0, Start, End);
        Assert.True(result.Ok, result.ToString());
        Assert.Null(result.Edge);
        Assert.Equal(Pages, result.Pages);
    }

    [Fact]
    public void Memory_stopped_mid_pass_passes_with_the_edge_where_the_incrementer_was()
    {
        var result = MigrationGuestCheck.Check(Dump(i => i < 100 ? (byte)8 : (byte)7), 0, Start, End);
        Assert.True(result.Ok, result.ToString());
        Assert.Equal(Start + (100 * MigrationGuestCheck.PageSize), result.Edge);
    }

    [Fact]
    public void Edge_across_the_byte_wrapping_to_zero_passes()
    {
        var result = MigrationGuestCheck.Check(Dump(i => i < 3 ? (byte)0 : (byte)255), 0, Start, End);
        Assert.True(result.Ok, result.ToString());
    }

    [Fact]
    public void A_stale_page_fails_with_both_sides_counted()
    {
        // One page a pass behind, in a region otherwise stopped mid-pass: the legal edge plus a
        // down-and-up around the stale page.
        var result = MigrationGuestCheck.Check(Dump(i => i == 200 ? (byte)7 : i < 100 ? (byte)9 : (byte)8), 0, Start, End);
        Assert.False(result.Ok);
        Assert.Equal(2, result.Bad);
        Assert.Contains("0x", result.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_step_up_fails()
    {
        var result = MigrationGuestCheck.Check(Dump(i => i < 10 ? (byte)4 : (byte)5), 0, Start, End);
        Assert.False(result.Ok);
        Assert.Equal(1, result.Bad);
    }

    [Fact]
    public void A_step_down_by_two_fails()
    {
        var result = MigrationGuestCheck.Check(Dump(i => i < 10 ? (byte)6 : (byte)4), 0, Start, End);
        Assert.False(result.Ok);
    }

    [Fact]
    public void A_zeroed_page_in_a_region_past_its_first_pass_fails()
    {
        var result = MigrationGuestCheck.Check(Dump(i => i == 50 ? (byte)0 : (byte)3), 0, Start, End);
        Assert.Equal(2, result.Bad);
    }

    [Fact]
    public void A_dump_starting_above_zero_is_addressed_by_its_base()
    {
        var dump = Dump(i => i < 5 ? (byte)2 : (byte)1).AsSpan((int)Start).ToArray();
        var result = MigrationGuestCheck.Check(dump, Start, Start, End);
        Assert.True(result.Ok, result.ToString());
        Assert.Equal(Start + (5 * MigrationGuestCheck.PageSize), result.Edge);
    }

    [Fact]
    public void A_region_outside_the_dump_is_refused()
    {
        Assert.Throws<ArgumentException>(() => MigrationGuestCheck.Check(new byte[4096], 0, Start, End));
    }
}
