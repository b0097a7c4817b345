namespace Qmp.Machine;

/// <summary>A request the machine refuses in its current state; the message is shown to the user as is.</summary>
public sealed class MachineOperationException(string message) : Exception(message);
