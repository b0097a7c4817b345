namespace Qmp.Migration;

/// <summary>A migration request refused or a migration that failed; the message is what QMP reports (QEMU's text where it has one).</summary>
public sealed class MigrationException(string message, Exception? inner = null) : Exception(message, inner);
