namespace Qmp.Migration;

/// <summary>A stream the destination cannot load: bad header, configuration mismatch, unknown or missing section; the message names it.</summary>
public sealed class MigrationLoadException(string message, Exception? inner = null) : Exception(message, inner);
