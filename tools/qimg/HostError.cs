namespace Qmp.Img;

/// <summary>strerror-style texts for .NET's host I/O exceptions, as QEMU prints them.</summary>
internal static class HostError
{
    public static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException => "Permission denied",
        _ => e.Message,
    };
}
