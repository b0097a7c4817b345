using Qmp.Schema;

namespace Qmp.Commands.Tests;

public class DomainMappingTests
{
    [Fact]
    public void Every_machine_run_state_maps_to_the_schema_value_of_the_same_wire_name()
    {
        var schemaNames = Enum.GetValues<Schema.RunState>().Select(s => s.ToWire()).ToList();
        var mapped = Enum.GetValues<Machine.RunState>().Select(s => s.ToSchema().ToWire()).ToList();
        Assert.Equal(schemaNames.Order(), mapped.Order());
        Assert.Equal("inmigrate", Machine.RunState.InMigrate.ToSchema().ToWire());
        Assert.Equal("guest-panicked", Machine.RunState.GuestPanicked.ToSchema().ToWire());
    }

    [Fact]
    public void Every_shutdown_cause_maps_in_order()
    {
        // QEMU's guest/host split depends on the order, so the two enums must agree position by position.
        var machine = Enum.GetValues<Machine.ShutdownCause>();
        Assert.Equal(Enum.GetValues<Schema.ShutdownCause>().Length, machine.Length);
        foreach (var cause in machine)
            Assert.Equal((int)cause, (int)cause.ToSchema());
    }
}
