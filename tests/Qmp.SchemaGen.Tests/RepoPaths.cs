namespace Qmp.SchemaGen.Tests;

/// <summary>Finds the repository root from the test's output directory.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Qmp.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Qmp.sln not found above " + AppContext.BaseDirectory);
    }
}
