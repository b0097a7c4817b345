namespace Qmp.Img;

/// <summary>A command-line mistake (qemu-img's error_exit): the message, then "Try '… --help'", exit code 1.</summary>
internal sealed class UsageException(string message) : Exception(message);
