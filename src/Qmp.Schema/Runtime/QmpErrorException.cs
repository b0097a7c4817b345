namespace Qmp.Schema.Runtime;

/// <summary>A QMP error reply: its class and its human-readable description.</summary>
public sealed class QmpErrorException(QmpErrorClass errorClass, string description) : Exception(description)
{
    /// <summary>The error class sent as <c>class</c>.</summary>
    public QmpErrorClass ErrorClass { get; } = errorClass;

    /// <summary>Shorthand for a <see cref="QmpErrorClass.GenericError"/>.</summary>
    public static QmpErrorException Generic(string description) => new(QmpErrorClass.GenericError, description);
}
