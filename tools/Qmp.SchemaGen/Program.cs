using Qmp.SchemaGen;
using Qmp.SchemaGen.Parsing;

// qmp-schemagen SCHEMA [--cs DIR] [--md FILE] [--check]
// Writes the generated C# and the reference; with --check, compares instead and fails on any difference.
string? schemaPath = null, csDir = null, mdPath = null;
var check = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--cs": csDir = args[++i]; break;
        case "--md": mdPath = args[++i]; break;
        case "--check": check = true; break;
        default: schemaPath = args[i]; break;
    }
}
if (schemaPath is null)
{
    Console.Error.WriteLine("usage: qmp-schemagen SCHEMA.json [--cs DIR] [--md FILE] [--check]");
    return 2;
}

GeneratedOutput output;
try
{
    output = Generator.Run(schemaPath);
}
catch (QapiException e)
{
    Console.Error.WriteLine($"qmp-schemagen: {e.Message}");
    return 1;
}

var differences = new List<string>();
if (csDir is not null)
{
    foreach (var (name, content) in output.CSharpFiles)
        Write(Path.Combine(csDir, name), content);
    if (!check)
    {
        foreach (var stale in Directory.GetFiles(csDir, "*.g.cs").Where(f => !output.CSharpFiles.ContainsKey(Path.GetFileName(f))))
            File.Delete(stale);
    }
}
if (mdPath is not null)
    Write(mdPath, output.Markdown);
foreach (var d in differences)
    Console.Error.WriteLine($"qmp-schemagen: {d} is out of date");
return differences.Count == 0 ? 0 : 1;

void Write(string path, string content)
{
    if (check)
    {
        if (!File.Exists(path) || File.ReadAllText(path) != content)
            differences.Add(path);
        return;
    }
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    if (!File.Exists(path) || File.ReadAllText(path) != content)
        File.WriteAllText(path, content);
}
