namespace Qmp.Daemon;

/// <summary>A bad command line: printed as <c>qmpd: OPTION: message</c>, exit code 1.</summary>
internal sealed class CommandLineException(string option, string message) : Exception($"{option}: {message}");
