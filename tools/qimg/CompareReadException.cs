namespace Qmp.Img;

/// <summary>A read failed during compare (exit code 4); the message is qemu-img's "Error while reading offset …".</summary>
internal sealed class CompareReadException(string message) : Exception(message);
