using Qmp.Schema;

namespace Qmp.Commands;

/// <summary>What query-version and the greeting report.</summary>
public static class QmpdVersion
{
    /// <summary>The QEMU release whose QMP surface qmpd provides.</summary>
    public static readonly (int Major, int Minor, int Micro) QemuLevel = (10, 0, 0);

    /// <summary>qmpd's own version, as <c>package</c>.</summary>
    public static string Package { get; } =
        "qmpd " + (typeof(QmpdVersion).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    /// <summary>The VersionInfo value.</summary>
    public static VersionInfo Info => new()
    {
        Qemu = new VersionTriple { Major = QemuLevel.Major, Minor = QemuLevel.Minor, Micro = QemuLevel.Micro },
        Package = Package,
    };
}
