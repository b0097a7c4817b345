namespace Qmp.Client;

/// <summary>The server answered a command with an error.</summary>
public sealed class QmpCommandException(string command, string errorClass, string description)
    : Exception($"{command}: {errorClass}: {description}")
{
    /// <summary>The command that failed.</summary>
    public string Command { get; } = command;

    /// <summary>QMP error class (<c>GenericError</c>, <c>CommandNotFound</c>, …).</summary>
    public string ErrorClass { get; } = errorClass;

    /// <summary>The server's description.</summary>
    public string Description { get; } = description;
}
