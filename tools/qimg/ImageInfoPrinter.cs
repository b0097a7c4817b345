using System.Globalization;
using System.Text;
using Qmp.Block;

namespace Qmp.Img;

/// <summary>
/// <c>qemu-img info</c>'s two outputs for a <see cref="BlockImageInfo"/>: the QAPI ImageInfo as a QDict (JSON,
/// with QEMU's member presence rules) and bdrv_image_info_dump's human text.
/// </summary>
internal static class ImageInfoPrinter
{
    /// <summary>ImageInfo as qemu-img 7.2 fills it (bdrv_query_image_info).</summary>
    public static QDict ToQDict(BlockImageInfo info)
    {
        var dict = new QDict()
            .Put("filename", info.Filename)
            .Put("format", info.Format)
            .Put("dirty-flag", info.DirtyFlag ?? false)
            .PutOptional("actual-size", info.ActualSize)
            .Put("virtual-size", info.VirtualSize)
            .PutOptional("cluster-size", info.ClusterSize is { } cluster ? (long)cluster : null);
        if (info.BackingFilename is { Length: > 0 } backing)
        {
            dict.Put("backing-filename", backing)
                .PutOptional("full-backing-filename", info.FullBackingFilename)
                .PutOptional("backing-filename-format", info.BackingFilenameFormat is { Length: > 0 } f ? f : null);
        }
        if (info.Snapshots.Count > 0)
            dict.Put("snapshots", info.Snapshots.Select(SnapshotToQDict).ToList());
        if (info.Qcow2 is { } qcow2)
            dict.Put("format-specific", new QDict().Put("type", "qcow2").Put("data", Qcow2ToQDict(qcow2)));
        return dict;
    }

    /// <summary>bdrv_image_info_dump.</summary>
    public static string ToHuman(BlockImageInfo info)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"image: {info.Filename}\n");
        text.Append(CultureInfo.InvariantCulture, $"file format: {info.Format}\n");
        text.Append(CultureInfo.InvariantCulture, $"virtual size: {SizeFormatter.Format(info.VirtualSize)} ({info.VirtualSize} bytes)\n");
        text.Append(CultureInfo.InvariantCulture, $"disk size: {(info.ActualSize is { } actual ? SizeFormatter.Format(actual) : "unavailable")}\n");
        if (info.ClusterSize is { } cluster)
            text.Append(CultureInfo.InvariantCulture, $"cluster_size: {cluster}\n");
        if (info.DirtyFlag == true)
            text.Append("cleanly shut down: no\n");
        if (info.BackingFilename is { Length: > 0 } backing)
        {
            text.Append("backing file: ").Append(backing);
            if (info.FullBackingFilename is null)
                text.Append(" (cannot determine actual path)");
            else if (info.FullBackingFilename != backing)
                text.Append(" (actual path: ").Append(info.FullBackingFilename).Append(')');
            text.Append('\n');
            if (info.BackingFilenameFormat is { Length: > 0 } format)
                text.Append(CultureInfo.InvariantCulture, $"backing file format: {format}\n");
        }
        if (info.Snapshots.Count > 0)
        {
            text.Append("Snapshot list:\n");
            text.Append(CultureInfo.InvariantCulture, $"{"ID",-10}{"TAG",-17}{"VM SIZE",8}{"DATE",20}{"VM CLOCK",13}{"ICOUNT",11}\n");
            foreach (var snapshot in info.Snapshots)
                text.Append(SnapshotLine(snapshot)).Append('\n');
        }
        if (info.Qcow2 is { } qcow2)
        {
            text.Append("Format specific information:\n");
            DumpQDict(text, 1, Qcow2ToQDict(qcow2));
        }
        return text.ToString();
    }

    private static QDict Qcow2ToQDict(Qcow2ImageInfo qcow2)
    {
        var v3 = qcow2.Compat != "0.10";
        var data = new QDict().Put("compat", qcow2.Compat);
        if (v3)
        {
            data.Put("extended-l2", qcow2.ExtendedL2)
                .Put("lazy-refcounts", qcow2.LazyRefcounts)
                .Put("corrupt", qcow2.Corrupt);
        }
        return data.Put("refcount-bits", (long)qcow2.RefcountBits).Put("compression-type", qcow2.CompressionType);
    }

    private static QDict SnapshotToQDict(BlockSnapshotInfo snapshot) =>
        new QDict()
            .Put("id", snapshot.Id)
            .Put("name", snapshot.Name)
            .Put("vm-state-size", snapshot.VmStateSize)
            .Put("date-sec", snapshot.DateSeconds)
            .Put("date-nsec", snapshot.DateNanoseconds)
            .Put("vm-clock-sec", snapshot.VmClockNanoseconds / 1_000_000_000)
            .Put("vm-clock-nsec", snapshot.VmClockNanoseconds % 1_000_000_000)
            .PutOptional("icount", snapshot.Icount);

    // bdrv_snapshot_dump: "%-9s %-16s %8s%20s%13s%11s", the date in local time.
    private static string SnapshotLine(BlockSnapshotInfo snapshot)
    {
        var date = DateTimeOffset.FromUnixTimeSeconds(snapshot.DateSeconds).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var seconds = snapshot.VmClockNanoseconds / 1_000_000_000;
        var clock = string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:D2}:{seconds / 60 % 60:D2}:{seconds % 60:D2}.{snapshot.VmClockNanoseconds / 1_000_000 % 1000:D3}");
        var icount = snapshot.Icount is { } count ? count.ToString(CultureInfo.InvariantCulture) : "";
        return string.Create(CultureInfo.InvariantCulture, $"{snapshot.Id,-9} {snapshot.Name,-16} {SizeFormatter.Format(snapshot.VmStateSize),8}{date,20}{clock,13}{icount,11}");
    }

    // dump_qdict: "key: value" lines, dashes in keys shown as spaces, nested containers indented by 4.
    private static void DumpQDict(StringBuilder text, int indentation, QDict dict)
    {
        foreach (var entry in dict.InQemuOrder())
        {
            var composite = entry.Value is QDict or System.Collections.IList;
            text.Append(' ', indentation * 4).Append(entry.Key.Replace('-', ' ')).Append(':').Append(composite ? '\n' : ' ');
            DumpValue(text, indentation + 1, entry.Value);
        }
    }

    private static void DumpValue(StringBuilder text, int indentation, object value)
    {
        switch (value)
        {
            case QDict dict:
                DumpQDict(text, indentation, dict);
                break;
            case System.Collections.IList list:
                var i = 0;
                foreach (var item in list)
                {
                    var composite = item is QDict or System.Collections.IList;
                    text.Append(' ', indentation * 4).Append(CultureInfo.InvariantCulture, $"[{i++}]:").Append(composite ? '\n' : ' ');
                    DumpValue(text, indentation + 1, item!);
                }
                break;
            case bool b:
                text.Append(b ? "true" : "false").Append('\n');
                break;
            case IFormattable number:
                text.Append(number.ToString(null, CultureInfo.InvariantCulture)).Append('\n');
                break;
            default:
                text.Append(value).Append('\n');
                break;
        }
    }
}
