using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Tests;

/// <summary>Each validation error has a tiny schema and its golden message (QEMU's text where QEMU has one).</summary>
public class NegativeSchemaTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "negative"), "*.json").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Invalid_schema_is_rejected_with_the_golden_message(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "negative");
        var expected = File.ReadAllText(Path.Combine(dir, name + ".err")).TrimEnd('\n');
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = dir;
        try
        {
            var error = Assert.Throws<QapiException>(() => Generator.Run(name + ".json"));
            Assert.Equal(expected, error.Message);
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }
}
