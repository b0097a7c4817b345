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
    public async ValueTask<IReadOnlyList<PciInfo>> QueryPciAsync(CancellationToken cancellationToken) =>
        await machine.InvokeAsync(() =>
        {
            IReadOnlyList<PciInfo> buses = machine.Board?.Devices.OfType<Machine.Devices.Pci.PciHost>()
                .Select(host => host.QueryPci())
                .Select(bus => new PciInfo
                {
                    Bus = bus.Bus,
                    Devices = bus.Devices.Select(PciDevice).ToList(),
                }).ToList() ?? [];
            return buses;
        }, cancellationToken).ConfigureAwait(false);

    // A device, with the bus behind it when it is a bridge (QEMU's pci_bridge, recursively).
    private static PciDeviceInfo PciDevice(Machine.Devices.Pci.PciDeviceInfo d) => new()
    {
        Bus = d.Bus,
        Slot = d.Slot,
        Function = d.Function,
        ClassInfo = new PciDeviceClass { Class = d.ClassInfo.Class, Desc = d.ClassInfo.Desc },
        Id = new PciDeviceId { Vendor = d.Id.Vendor, Device = d.Id.Device, Subsystem = d.Id.Subsystem, SubsystemVendor = d.Id.SubsystemVendor },
        Irq = d.Irq,
        IrqPin = d.IrqPin,
        QdevId = d.QdevId,
        PciBridge = d.PciBridge is { } bridge ? new PciBridgeInfo
        {
            Bus = new PciBusInfo
            {
                Number = bridge.Bus.Number,
                Secondary = bridge.Bus.Secondary,
                Subordinate = bridge.Bus.Subordinate,
                IoRange = Range(bridge.Bus.IoRange),
                MemoryRange = Range(bridge.Bus.MemoryRange),
                PrefetchableRange = Range(bridge.Bus.PrefetchableRange),
            },
            Devices = bridge.Devices?.Select(PciDevice).ToList(),
        } : null,
        Regions = d.Regions.Select(r => new PciMemoryRegion
        {
            Bar = r.Bar,
            Type = r.Type,
            Address = r.Address,
            Size = r.Size,
            Prefetch = r.Prefetch,
            MemType64 = r.MemType64,
        }).ToList(),
    };

    private static PciMemoryRange Range(Machine.Devices.Pci.PciMemoryRange range) => new() { Base = range.Base, Limit = range.Limit };

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
