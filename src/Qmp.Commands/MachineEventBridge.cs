using Qmp.Machine;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>Turns the machine's lifecycle into QMP events, on the machine thread, as they happen.</summary>
public sealed class MachineEventBridge(IQmpEventSink sink) : IMachineObserver
{
    /// <inheritdoc/>
    public void OnStop() => sink.Emit(new StopEvent());

    /// <inheritdoc/>
    public void OnResume() => sink.Emit(new ResumeEvent());

    /// <inheritdoc/>
    public void OnReset(bool guest, Machine.ShutdownCause cause) =>
        sink.Emit(new ResetEvent { Guest = guest, Reason = cause.ToSchema() });

    /// <inheritdoc/>
    public void OnShutdown(bool guest, Machine.ShutdownCause cause) =>
        sink.Emit(new ShutdownEvent { Guest = guest, Reason = cause.ToSchema() });

    /// <inheritdoc/>
    public void OnPowerdown() => sink.Emit(new PowerdownEvent());

    /// <inheritdoc/>
    public void OnDeviceDeleted(string? id, string path) => sink.Emit(new DeviceDeletedEvent { Device = id, Path = path });

    /// <inheritdoc/>
    public void OnDeviceUnplugGuestError(string? id, string path) => sink.Emit(new DeviceUnplugGuestErrorEvent { Device = id, Path = path });
}
