namespace Qmp.Functional.Tests;

/// <summary>A guest's serial output written to <c>{dir}/{name}.serial</c> (<c>-serial file:</c>).</summary>
internal static class SerialLog
{
    public static async Task<string> ReadAsync(string dir, string name)
    {
        var path = Path.Combine(dir, name + ".serial");
        return File.Exists(path) ? await File.ReadAllTextAsync(path) : "";
    }

    public static async Task WaitForAsync(string dir, string name, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await ReadAsync(dir, name)).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{name} never printed '{text}': {await ReadAsync(dir, name)}");
            await Task.Delay(50);
        }
    }
}
