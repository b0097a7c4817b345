using Qmp.Migration;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>Turns the migration engine's status changes and passes into MIGRATION and MIGRATION_PASS.</summary>
public static class MigrationEventBridge
{
    /// <summary>Emits the events of <paramref name="migration"/> on <paramref name="sink"/>.</summary>
    public static void Attach(MigrationManager migration, IQmpEventSink sink)
    {
        migration.StatusChanged += status => sink.Emit(new MigrationEvent { Status = status.ToSchema() });
        migration.PassStarted += pass => sink.Emit(new MigrationPassEvent { Pass = pass });
    }
}
