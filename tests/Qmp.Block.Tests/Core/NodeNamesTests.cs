namespace Qmp.Block.Tests.Core;

public sealed class NodeNamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("disk0")]
    [InlineData("Disk-0.img_x")]
    [InlineData("z1234567890123456789012345678.-")]
    public void Well_formed_names_up_to_31_characters_are_accepted(string name)
    {
        Assert.True(name.Length <= NodeNames.MaxLength);
        Assert.Null(NodeNames.Check(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0disk")]
    [InlineData("_disk")]
    [InlineData("-disk")]
    [InlineData(".disk")]
    [InlineData("#block001")]
    [InlineData("disk 0")]
    [InlineData("disk/0")]
    [InlineData("disk:0")]
    [InlineData("disk+0")]
    [InlineData("dísk")]
    [InlineData("ädisk")]
    public void Names_that_do_not_start_with_a_letter_or_use_other_characters_are_invalid(string name)
    {
        Assert.Equal($"Invalid node-name: '{name}'", NodeNames.Check(name));
    }

    [Fact]
    public void A_name_of_32_characters_is_too_long()
    {
        var name = "a" + new string('b', 31);
        Assert.Equal("Node name too long", NodeNames.Check(name));
        Assert.Null(NodeNames.Check(name[..31]));
    }

    [Fact]
    public void A_long_name_with_bad_characters_is_reported_as_invalid_first()
    {
        var name = "0" + new string('b', 40);
        Assert.Equal($"Invalid node-name: '{name}'", NodeNames.Check(name));
    }
}
