using Qmp.Machine;
using Qmp.Schema;

namespace Qmp.Commands;

/// <summary>machine.json: machine types, target, uuid, reset, powerdown, kvm.</summary>
public sealed class MachineCommands(Machine.Machine machine) : IMachineCommands
{
    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<MachineInfo>> QueryMachinesAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<MachineInfo> list = MachineTypes.All.Select(t => new MachineInfo
        {
            Name = t.Name,
            Alias = t.Alias,
            IsDefault = t.IsDefault ? true : null,
            CpuMax = t.CpuMax,
            HotpluggableCpus = false,
            NumaMemSupported = false,
            Deprecated = false,
            DefaultCpuType = t.DefaultCpuType,
            DefaultRamId = t.DefaultRamId,
            Acpi = false,
        }).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask<CurrentMachineParams> QueryCurrentMachineAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new CurrentMachineParams { WakeupSuspendSupport = false });

    /// <inheritdoc/>
    public ValueTask<TargetInfo> QueryTargetAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new TargetInfo { Arch = SysEmuTarget.I386 });

    /// <inheritdoc/>
    public ValueTask<UuidInfo> QueryUuidAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new UuidInfo { Uuid = machine.Config.Uuid.ToString("D") });

    /// <inheritdoc/>
    public ValueTask SystemResetAsync(CancellationToken cancellationToken) =>
        DomainMapping.Guard(() => machine.ResetAsync(Machine.ShutdownCause.HostQmpSystemReset, cancellationToken));

    /// <inheritdoc/>
    public ValueTask SystemPowerdownAsync(CancellationToken cancellationToken) =>
        DomainMapping.Guard(() => machine.PowerdownAsync(cancellationToken));

    /// <inheritdoc/>
    public ValueTask<KvmInfo> QueryKvmAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new KvmInfo { Enabled = false, Present = false });
}
