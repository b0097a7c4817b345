namespace Qmp.Img.Tests;

/// <summary>What one run of qimg or qemu-img did: exit code, stdout, stderr.</summary>
internal sealed record ToolRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>stdout then stderr, with qimg's program name replaced by qemu-img's so the two tools' texts compare.</summary>
    public string Normalized => (Stdout + Stderr).Replace("qimg: ", "qemu-img: ", StringComparison.Ordinal).Replace("Try 'qimg --help'", "Try 'qemu-img --help'", StringComparison.Ordinal);
}
