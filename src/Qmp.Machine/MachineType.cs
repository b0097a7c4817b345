namespace Qmp.Machine;

/// <summary>A board qmpd can build, as listed by query-machines.</summary>
/// <param name="Name">Versioned type name, e.g. <c>pc-i440fx-10.0</c>.</param>
/// <param name="Alias">Short alias (<c>pc</c>), if any.</param>
/// <param name="IsDefault">Chosen when <c>-machine</c> is absent.</param>
/// <param name="CpuMax">Most vCPUs the board takes.</param>
/// <param name="DefaultCpuType">QOM type of its CPUs, if it has any by default.</param>
/// <param name="DefaultRamId">QOM id of its main RAM region.</param>
/// <param name="Description">One line for <c>-machine help</c>.</param>
public sealed record MachineType(
    string Name,
    string? Alias,
    bool IsDefault,
    int CpuMax,
    string? DefaultCpuType,
    string? DefaultRamId,
    string Description);
