using Microsoft.Win32.SafeHandles;

namespace Qmp.Schema.Runtime;

/// <summary>
/// The monitor connection a command handler runs for: what QEMU handlers reach through
/// <c>monitor_cur()</c>. The monitor sets <see cref="Current"/> around each handler call; it flows
/// through the handler's awaits and is null outside a QMP command (tests, the daemon's own calls).
/// </summary>
/// <param name="fds">The monitor's named descriptors.</param>
/// <param name="takeReceivedFd">Takes the descriptor that came with SCM_RIGHTS on this connection, if one is waiting.</param>
public sealed class QmpRequestContext(IQmpFdStore fds, Func<SafeFileHandle?> takeReceivedFd)
{
    private static readonly AsyncLocal<QmpRequestContext?> _current = new();

    /// <summary>The context of the command running on this logical flow, or null.</summary>
    public static QmpRequestContext? Current
    {
        get => _current.Value;
        set => _current.Value = value;
    }

    /// <summary>The monitor's named descriptors.</summary>
    public IQmpFdStore Fds { get; } = fds;

    /// <summary>
    /// Takes the descriptor received with SCM_RIGHTS on this connection and not yet used, as QEMU's
    /// <c>qemu_chr_fe_get_msgfd</c> does: the first of the last batch received; null when none is waiting.
    /// </summary>
    public SafeFileHandle? TakeReceivedFd() => takeReceivedFd();

    /// <summary>
    /// Resolves a descriptor parameter the way QEMU's <c>monitor_fd_param</c> does (<c>migrate fd:X</c>,
    /// <c>migrate-incoming fd:X</c>): a name starting with a digit is a descriptor number the process
    /// already has; any other name is taken out of the current monitor's store. Either way the caller
    /// owns the result (the channel closes it when done, as QEMU's does). Null when the name is unknown,
    /// not a number, or there is no monitor context.
    /// </summary>
    public static SafeFileHandle? ResolveFdParameter(string name)
    {
        if (name.Length > 0 && char.IsAsciiDigit(name[0]))
            return int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
                ? new SafeFileHandle(number, ownsHandle: true)
                : null;
        return Current?.Fds.Take(name);
    }
}
