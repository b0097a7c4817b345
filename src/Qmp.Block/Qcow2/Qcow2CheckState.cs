namespace Qmp.Block.Qcow2;

/// <summary>What one pass of the consistency check found: references per host cluster and the counters qemu-img reports.</summary>
internal sealed class Qcow2CheckState
{
    private readonly int _clusterBits;
    private readonly long _fileLength;
    private readonly int[] _references;

    public Qcow2CheckState(int clusterBits, long fileLength)
    {
        _clusterBits = clusterBits;
        _fileLength = fileLength;
        FileClusters = (fileLength + (1L << clusterBits) - 1) >> clusterBits;
        _references = new int[Math.Max(FileClusters, 1)];
    }

    /// <summary>Clusters the file holds, the last one possibly partly; only these are compared.</summary>
    public long FileClusters { get; }

    public int Corruptions { get; set; }

    public int Leaks { get; set; }

    public int CheckErrors { get; set; }

    public long AllocatedClusters { get; set; }

    public long FragmentedClusters { get; set; }

    public long CompressedClusters { get; set; }

    public long HighestCluster { get; set; } = -1;

    /// <summary>Refcounts below the references, or a broken refcount structure: only a rebuild fixes it.</summary>
    public bool NeedsRebuild { get; set; }

    public List<string> Messages { get; } = [];

    /// <summary>Leaked clusters: (cluster, stored refcount, references).</summary>
    public List<(long Cluster, ulong Refcount, int References)> LeakedClusters { get; } = [];

    /// <summary>The clusters of the refcount table and blocks (excluded when the structure is rebuilt).</summary>
    public List<long> RefcountStructureClusters { get; } = [];

    public int References(long cluster) => cluster < _references.Length ? _references[cluster] : 0;

    /// <summary>Counts one reference to every cluster [offset, offset + length) touches.</summary>
    public void Reference(long offset, long length)
    {
        if (length <= 0)
            return;
        // As QEMU: a region reaching a whole cluster or more past the end of the file is an error, not a reference.
        if (offset + length - _fileLength >= 1L << _clusterBits)
        {
            Messages.Add($"ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x{offset:x} size 0x{length:x}");
            Corruptions++;
            return;
        }
        var first = offset >> _clusterBits;
        var last = (offset + length - 1) >> _clusterBits;
        for (var c = first; c <= last; c++)
            _references[c]++;
    }

    /// <summary>A copy of the references without the refcount structure's own clusters.</summary>
    public int[] ReferencesWithoutRefcountStructure()
    {
        var copy = (int[])_references.Clone();
        foreach (var cluster in RefcountStructureClusters)
        {
            if (cluster < copy.Length && copy[cluster] > 0)
                copy[cluster]--;
        }
        return copy;
    }

    public Qcow2CheckResult ToResult(string filename, long totalClusters, int clusterSize) => new()
    {
        Filename = filename,
        CheckErrors = CheckErrors,
        Corruptions = Corruptions,
        Leaks = Leaks,
        AllocatedClusters = AllocatedClusters,
        TotalClusters = totalClusters,
        FragmentedClusters = FragmentedClusters,
        CompressedClusters = CompressedClusters,
        ImageEndOffset = (HighestCluster + 1) * clusterSize,
        Messages = Messages,
    };
}
