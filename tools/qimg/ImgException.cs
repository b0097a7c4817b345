namespace Qmp.Img;

/// <summary>A failed command (qemu-img's error_report and a non-zero exit): the message goes to stderr after the program name.</summary>
internal sealed class ImgException(string message, int exitCode = 1) : Exception(message)
{
    /// <summary>The process exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>Text printed verbatim after the message line (QEMU's error_append_hint, which may lack a final newline).</summary>
    public string? Hint { get; init; }
}
