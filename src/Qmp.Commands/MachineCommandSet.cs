using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>Builds the command table of one machine: one handler per schema module, bound to that machine.</summary>
public static class MachineCommandSet
{
    /// <summary>Creates every handler for <paramref name="machine"/> and binds them to the generated table.</summary>
    /// <param name="machine">The machine.</param>
    /// <param name="migration">Its migration state (the daemon's, with events attached); a new one when null.</param>
    public static QmpCommandTable Create(Machine.Machine machine, Migration.MigrationManager? migration = null)
    {
        var control = new ControlCommands(machine);
        var machineCommands = new MachineCommands(machine);
        var chardevs = new CharCommands(machine);
        var human = new HumanMonitor(machine, control, machineCommands, chardevs);
        var qdev = new QdevCommands(machine);
        var table = QmpCommands.CreateTable(
            runState: new RunStateCommands(machine),
            @char: chardevs,
            blockCore: new Block.BlockCoreCommands(machine),
            blockJobs: new Block.JobCommands(machine),
            blockCreate: new Block.BlockCreateCommands(machine),
            blockCommit: new Block.BlockCommitCommands(machine),
            blockMirror: new Block.BlockMirrorCommands(machine),
            blockBackup: new Block.BlockBackupCommands(machine),
            qdev: qdev,
            control: control,
            introspect: new IntrospectCommands(),
            machine: machineCommands,
            misc: new MiscCommands(machine, human),
            qom: new QomCommands(machine),
            migration: new MigrationCommands(migration ?? new Migration.MigrationManager(machine)));
        table.AddHandwritten("device_add", qdev.DeviceAddAsync);
        return table;
    }
}
