namespace Qmp.Daemon;

/// <summary>A QMP monitor on a chardev (<c>-mon chardev=ID,mode=control</c> or <c>-qmp</c>).</summary>
internal sealed record MonitorSpec(ChardevSpec Chardev, bool Pretty);
