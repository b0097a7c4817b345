namespace Qmp.Daemon;

/// <summary>The process exit code a machine asked for (isa-debug-exit); 0 otherwise.</summary>
internal sealed class DaemonExitCode
{
    private int? _code;

    public int Code => _code ?? 0;

    /// <summary>Records the first code asked for.</summary>
    public void Set(int code) => _code ??= code;
}
