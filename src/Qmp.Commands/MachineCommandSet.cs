using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>Builds the command table of one machine: one handler per schema module, bound to that machine.</summary>
public static class MachineCommandSet
{
    /// <summary>Creates every handler for <paramref name="machine"/> and binds them to the generated table.</summary>
    public static QmpCommandTable Create(Machine.Machine machine)
    {
        var control = new ControlCommands(machine);
        var machineCommands = new MachineCommands(machine);
        var chardevs = new CharCommands(machine);
        var human = new HumanMonitor(machine, control, machineCommands, chardevs);
        var qdev = new QdevCommands(machine);
        var table = QmpCommands.CreateTable(
            new RunStateCommands(machine), chardevs, new Block.BlockCoreCommands(machine), new Block.JobCommands(machine), qdev, control, new IntrospectCommands(), machineCommands, new MiscCommands(machine, human), new QomCommands(machine));
        table.AddHandwritten("device_add", qdev.DeviceAddAsync);
        return table;
    }
}
