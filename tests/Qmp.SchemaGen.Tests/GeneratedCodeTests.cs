namespace Qmp.SchemaGen.Tests;

public class GeneratedCodeTests
{
    [Fact]
    public void Checked_in_generated_code_matches_the_schema()
    {
        var output = Generator.Run(Path.Combine(RepoPaths.Root, "schema", "qapi-schema.json"));
        var generatedDir = Path.Combine(RepoPaths.Root, "src", "Qmp.Schema", "Generated");
        var onDisk = Directory.GetFiles(generatedDir, "*.g.cs").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(output.CSharpFiles.Keys.ToList(), onDisk);
        foreach (var (name, content) in output.CSharpFiles)
            Assert.True(content == File.ReadAllText(Path.Combine(generatedDir, name)), $"{name} is stale: run tools/regen-schema.sh");
        Assert.True(output.Markdown == File.ReadAllText(Path.Combine(RepoPaths.Root, "schema", "qmp-reference.md")), "schema/qmp-reference.md is stale: run tools/regen-schema.sh");
    }

    [Fact]
    public void Every_command_and_event_is_documented_in_the_reference()
    {
        var output = Generator.Run(Path.Combine(RepoPaths.Root, "schema", "qapi-schema.json"));
        foreach (var entry in output.Introspection)
        {
            var meta = entry!["meta-type"]!.GetValue<string>();
            var name = entry["name"]!.GetValue<string>();
            if (meta == "command")
                Assert.Contains($"### Command `{name}`", output.Markdown, StringComparison.Ordinal);
            if (meta == "event")
                Assert.Contains($"### Event `{name}`", output.Markdown, StringComparison.Ordinal);
        }
    }
}
