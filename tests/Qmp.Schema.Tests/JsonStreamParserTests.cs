using System.Text;
using Qmp.Schema.Json;

namespace Qmp.Schema.Tests;

// Error texts are QEMU 7.2's (qmp-facts.md §1.6 and json-parser.c).
public class JsonStreamParserTests
{
    private static List<string> Feed(string text) => Feed(Encoding.UTF8.GetBytes(text));

    private static List<string> Feed(byte[] bytes) =>
        new JsonStreamParser().Feed(bytes).Select(m => m.Error ?? QmpJsonWriter.ToJsonString(m.Value)).ToList();

    [Fact]
    public void Messages_need_no_newline_between_them() =>
        Assert.Equal(["{\"a\": 1}", "{\"b\": 2}"], Feed("{\"a\":1}{\"b\":2}"));

    [Fact]
    public void A_message_split_across_lines_is_one_message() =>
        Assert.Equal(["{\"execute\": \"x\", \"id\": 13}"], Feed("{\"execute\":\"x\",\"id\":13\n}"));

    [Theory]
    [InlineData("{bad json}", "JSON parse error, invalid keyword 'bad'")]
    [InlineData("{ \"execute\": }", "JSON parse error, expecting value")]
    [InlineData("{\"execute\":\"query-name\",\"id\":20,\"id\":21}", "JSON parse error, duplicate key")]
    [InlineData("{1:2}", "JSON parse error, key is not a string in object")]
    [InlineData("{\"a\" 1}", "JSON parse error, missing : in object pair")]
    [InlineData("{\"a\":1 \"b\":2}", "JSON parse error, expected separator in dict")]
    [InlineData("[1 2]", "JSON parse error, expected separator in list")]
    [InlineData("[1,]", "JSON parse error, expecting value")]
    [InlineData("\"\\x\"", "JSON parse error, invalid escape sequence in string")]
    [InlineData("\"\\ud800\"", "JSON parse error, \\ud800 is not a valid Unicode character")]
    [InlineData("}", "JSON parse error, expecting value")]
    public void Parse_errors_use_QEMU_texts(string input, string expected) => Assert.Equal([expected], Feed(input));

    [Fact]
    public void Stray_bytes_are_reported_with_their_text()
    {
        Assert.Equal(["JSON parse error, stray '\uFFFD'"], Feed([0xFF]));
        Assert.Equal(["JSON parse error, stray ''"], Feed([0x00]));
        Assert.Equal(["JSON parse error, stray 'T'"], Feed("True"));
    }

    [Fact]
    public void Recovery_skips_to_the_next_structural_character()
    {
        Assert.Equal(["JSON parse error, stray '@'", "{\"a\": 1}"], Feed("@@@\n{\"a\":1}"));
    }

    [Fact]
    public void An_unbalanced_message_swallows_what_follows_until_it_balances()
    {
        Assert.Empty(Feed("{\"a\":1\n{\"b\":2}\n"));
    }

    [Fact]
    public void Leading_zeros_are_refused()
    {
        Assert.Equal(["JSON parse error, stray '01'"], Feed("01 "));
    }

    [Fact]
    public void Nesting_is_limited_to_1024()
    {
        var deep = new string('[', 1025) + new string(']', 1025);
        var results = Feed(deep);
        Assert.Equal("JSON nesting depth limit exceeded", results[0]);
        Assert.All(results.Skip(1), r => Assert.Equal("JSON parse error, expecting value", r));
        Assert.Single(Feed(new string('[', 1024) + new string(']', 1024)));
    }

    [Fact]
    public void Oversized_messages_are_refused()
    {
        var parser = new JsonStreamParser(maxTokenSize: 100);
        var messages = parser.Feed(Encoding.UTF8.GetBytes("[\"" + new string('x', 200) + "\"]"));
        Assert.Equal("JSON token size limit exceeded", messages[0].Error);
    }

    [Fact]
    public void Integers_keep_64_bit_precision_and_fall_back_to_double()
    {
        Assert.Equal(["18446744073709551615"], Feed("18446744073709551615 "));
        Assert.Equal(["1.8446744073709552e+19"], Feed("18446744073709551616 "));
    }

    [Fact]
    public void Infinite_numbers_are_an_error_instead_of_invalid_output() =>
        Assert.Equal(["JSON parse error, number '1e400' is out of range"], Feed("1e400 "));

    [Fact]
    public void Invalid_utf8_in_strings_is_an_error() =>
        Assert.Equal(["JSON parse error, invalid UTF-8 sequence in string"], Feed([(byte)'"', 0xC3, 0x28, (byte)'"']));
}
