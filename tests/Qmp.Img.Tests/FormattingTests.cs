namespace Qmp.Img.Tests;

/// <summary>The pieces that make qimg's output byte-identical to qemu-img's: sizes, C number formats, QDict order, getopt.</summary>
public sealed class FormattingTests
{
    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(512, "512 B")]
    [InlineData(1000, "0.977 KiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(331776, "324 KiB")]
    [InlineData(1048576, "1 MiB")]
    [InlineData(3000320, "2.86 MiB")]
    [InlineData(10737418240, "10 GiB")]
    [InlineData(1023488, "1e+03 KiB")]
    public void Sizes_print_like_size_to_str(long bytes, string expected) => Assert.Equal(expected, SizeFormatter.Format(bytes));

    [Theory]
    [InlineData(0.125, 2, "0.12")]
    [InlineData(0.375, 2, "0.38")]
    [InlineData(6.25, 2, "6.25")]
    [InlineData(100.0, 2, "100.00")]
    public void Fixed_point_rounds_ties_to_even_like_glibc(double value, int decimals, string expected) => Assert.Equal(expected, CFormat.F(value, decimals));

    [Theory]
    [InlineData("1M", 1048576UL)]
    [InlineData("1.5k", 1536UL)]
    [InlineData("1G", 1073741824UL)]
    [InlineData("0x1000", 4096UL)]
    [InlineData("100", 100UL)]
    [InlineData("2b", 2UL)]
    public void Sizes_parse_like_qemu_strtosz(string text, ulong expected)
    {
        Assert.Equal(SizeParser.Result.Ok, SizeParser.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("12X")]
    [InlineData("")]
    public void Bad_sizes_are_refused(string text) => Assert.Equal(SizeParser.Result.Invalid, SizeParser.TryParse(text, out _));

    [Fact]
    public void Json_members_come_in_qdict_hash_order()
    {
        // The order qemu-img 7.2 printed for an overlay's info.
        var dict = new QDict()
            .Put("filename", "o.qcow2").Put("format", "qcow2").Put("dirty-flag", false).Put("actual-size", 331776L)
            .Put("virtual-size", 1048576L).Put("cluster-size", 65536L).Put("backing-filename", "a.qcow2")
            .Put("full-backing-filename", "a.qcow2").Put("backing-filename-format", "qcow2");
        Assert.Equal(
            ["backing-filename-format", "virtual-size", "filename", "cluster-size", "format", "actual-size", "full-backing-filename", "backing-filename", "dirty-flag"],
            dict.InQemuOrder().Select(e => e.Key));
    }

    [Fact]
    public void Pretty_json_matches_qemus_writer()
    {
        var json = QJson.Pretty(new QDict().Put("type", "qcow2").Put("data", new QDict().Put("compat", "1.1")).Put("list", new List<object>()));
        Assert.Equal("{\n    \"list\": [\n    ],\n    \"type\": \"qcow2\",\n    \"data\": {\n        \"compat\": \"1.1\"\n    }\n}", json);
    }

    [Fact]
    public void Getopt_permutes_clusters_and_abbreviates()
    {
        var (options, operands) = GetOpt.Parse(["file", "-pUf", "qcow2", "--out=json", "--", "-x"], "f:pU", [new("output", true, 256), new("other", false, 257)]);
        Assert.Equal(["file", "-x"], operands);
        Assert.Equal([('p', (string?)null), ('U', null), ('f', "qcow2"), (256, "json")], options.Select(o => (o.Id, o.Value)));
        Assert.Equal("unrecognized option '-x'", Assert.Throws<UsageException>(() => GetOpt.Parse(["-x"], "f:")).Message);
        Assert.Equal("missing argument for option '-f'", Assert.Throws<UsageException>(() => GetOpt.Parse(["-f"], "f:")).Message);
    }
}
