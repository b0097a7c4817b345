using System.Collections.Concurrent;
using Qmp.Block.Jobs;
using Qmp.Block.Tests.Core;
using Qmp.Block.Transactions;

namespace Qmp.Block.Tests.Jobs;

/// <summary>The transaction command: all-or-nothing prepare with rollback, and grouped completion (QEMU's JobTxn).</summary>
public sealed class TransactionTests : IAsyncLifetime
{
    private const int Mib = BackupFixture.Mib;
    private readonly BackupFixture _f = new();
    private readonly ConcurrentQueue<string> _events = new();
    private string _src = "", _src2 = "", _tgt = "", _tgt2 = "";

    public async Task InitializeAsync()
    {
        _src = await _f.PatternRawAsync("src.raw");
        _src2 = await _f.PatternRawAsync("src2.raw");
        _tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        _tgt2 = await _f.EmptyQcow2Async("tgt2.qcow2");
        await _f.AddQcow2Async("src", await QcowOverAsync(_src, "srcq.qcow2"));
        await _f.AddRawAsync("src2", _src2);
        await _f.AddQcow2Async("tgt", _tgt);
        await _f.AddQcow2Async("tgt2", _tgt2);
        var jobs = _f.Graph.Jobs;
        jobs.StatusChanged += (j, s) => _events.Enqueue($"{j.Id}:{JobStateMachine.Name(s)}");
        jobs.Completed += j => _events.Enqueue(j.Error is null ? $"{j.Id}:COMPLETED" : $"{j.Id}:COMPLETED({j.Error})");
        jobs.Cancelled += j => _events.Enqueue($"{j.Id}:CANCELLED");
        jobs.Pending += j => _events.Enqueue($"{j.Id}:PENDING");
    }

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task A_failing_action_rolls_back_the_snapshot_and_the_backup_never_starts()
    {
        var src = _f.Graph.FindNode("src")!;
        var snapshot = _f.PathOf("snap.qcow2");
        var actions = new TransactionAction[]
        {
            new SnapshotSyncAction { NodeName = "src", SnapshotFile = snapshot, SnapshotNodeName = "ov" },
            Backup("b0", "src", "tgt"),
            new AbortAction(),
        };

        var e = await Assert.ThrowsAsync<BlockGraphException>(() => BlockTransaction.RunAsync(_f.Graph, actions, grouped: false));

        Assert.Equal("Transaction aborted using Abort action", e.Message);
        Assert.Equal(["b0:created", "b0:aborting", "b0:concluded", "b0:null"], Take());
        Assert.Null(_f.Graph.FindNode("ov"));
        Assert.Empty(src.ParentLinks);
        Assert.False(System.IO.File.Exists(snapshot));
        Assert.False(src.HasWriteNotifiers);
        Assert.Empty(_f.Graph.Jobs.Jobs);
        await _f.Graph.DeleteAsync("tgt");
        await _f.Graph.DeleteAsync("src");
    }

    [Fact]
    public async Task A_failing_second_backup_rolls_back_the_first_and_a_created_drive_backup_target()
    {
        var created = _f.PathOf("drive.qcow2");
        var actions = new TransactionAction[]
        {
            DriveBackup("d0", "src", created),
            Backup("b1", "src2", "nonode"),
        };

        var e = await Assert.ThrowsAsync<BlockGraphException>(() => BlockTransaction.RunAsync(_f.Graph, actions, grouped: false));

        Assert.Equal("Cannot find device='nonode' nor node-name='nonode'", e.Message);
        Assert.Equal(["d0:created", "d0:aborting", "d0:concluded", "d0:null"], Take());
        Assert.False(System.IO.File.Exists(created));
        Assert.DoesNotContain(_f.Graph.Nodes, n => n.Filename == created);
    }

    [Fact]
    public async Task Grouped_completion_is_refused_for_snapshots_after_rolling_back_earlier_actions()
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => BlockTransaction.RunAsync(_f.Graph,
            [Backup("b0", "src", "tgt"), new SnapshotSyncAction { NodeName = "src2", SnapshotFile = _f.PathOf("s.qcow2") }], grouped: true));

        Assert.Equal("Action 'blockdev-snapshot-sync' does not support Transaction property completion-mode = grouped", e.Message);
        Assert.Equal(["b0:created", "b0:aborting", "b0:concluded", "b0:null"], Take());
        Assert.False(System.IO.File.Exists(_f.PathOf("s.qcow2")));
    }

    [Fact]
    public async Task Duplicate_job_ids_in_one_transaction_are_refused()
    {
        var e = await Assert.ThrowsAsync<JobException>(() => BlockTransaction.RunAsync(_f.Graph, [Backup("b0", "src", "tgt"), Backup("b0", "src2", "tgt2")], grouped: false));
        Assert.Equal("Job ID 'b0' already in use", e.Message);
        Assert.Empty(_f.Graph.Jobs.Jobs);
    }

    [Fact]
    public async Task Grouped_jobs_wait_for_each_other_then_finalize_together_newest_first()
    {
        var b0 = Backup("b0", "src", "tgt", speed: 1);
        var b1 = Backup("b1", "src2", "tgt2");
        await BlockTransaction.RunAsync(_f.Graph, [b0, b1], grouped: true);
        Assert.Equal(["b0:created", "b1:created", "b0:running", "b0:paused", "b1:running", "b1:paused", "b0:running", "b1:running"], Take());

        while (b1.Job!.Status != JobStatus.Waiting)
            await Task.Delay(2);
        Assert.Equal(JobStatus.Running, b0.Job!.Status);
        b0.Job.SetSpeed(0);
        await Task.WhenAll(b0.Job.Completion, b1.Job.Completion).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["b1:waiting", "b0:waiting", "b1:pending", "b0:pending", "b1:COMPLETED", "b1:concluded", "b1:null", "b0:COMPLETED", "b0:concluded", "b0:null"], Take());
        Assert.Equal(0, await BackupFixture.CompareAsync(_src, "raw", _tgt, "qcow2"));
        Assert.Equal(0, await BackupFixture.CompareAsync(_src2, "raw", _tgt2, "qcow2"));
    }

    [Fact]
    public async Task Grouped_jobs_with_one_not_auto_finalizing_wait_in_pending_for_job_finalize_of_any()
    {
        var b0 = Backup("b0", "src", "tgt", autoFinalize: false);
        var b1 = Backup("b1", "src2", "tgt2");
        await BlockTransaction.RunAsync(_f.Graph, [b0, b1], grouped: true);
        // BLOCK_JOB_PENDING follows b0's move to pending: wait for the event, not only the status.
        while (b0.Job!.Status != JobStatus.Pending || b1.Job!.Status != JobStatus.Pending || !_events.Contains("b0:PENDING"))
            await Task.Delay(2);
        Take();

        await b1.Job.FinalizeAsync();

        Assert.Equal(["b1:COMPLETED", "b1:concluded", "b1:null", "b0:COMPLETED", "b0:concluded", "b0:null"], Take());
    }

    [Fact]
    public async Task Cancelling_one_grouped_job_cancels_the_others()
    {
        var b0 = Backup("b0", "src", "tgt", speed: 1);
        var b1 = Backup("b1", "src2", "tgt2", speed: 1);
        await BlockTransaction.RunAsync(_f.Graph, [b0, b1], grouped: true);
        Take();

        await b1.Job!.CancelAsync();
        await b0.Job!.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["b1:aborting", "b1:CANCELLED", "b1:concluded", "b1:null", "b0:aborting", "b0:CANCELLED", "b0:concluded", "b0:null"], Take());
        Assert.Empty(_f.Graph.Jobs.Jobs);
    }

    [Fact]
    public async Task A_failing_grouped_job_aborts_the_others_including_one_already_waiting()
    {
        var tgt2 = _f.Graph.FindNode("tgt2")!;
        var faulty = GraphInjection.Add(_f.Graph, new WriteErrorNode(tgt2), "faulty", tgt2);
        var b0 = Backup("b0", "src", "tgt");
        var b1 = Backup("b1", "src2", "faulty", speed: 1);
        await BlockTransaction.RunAsync(_f.Graph, [b0, b1], grouped: true);
        while (b0.Job!.Status != JobStatus.Waiting)
            await Task.Delay(2);
        Take();

        faulty.FailWrites = true;
        b1.Job!.SetSpeed(0);
        await Task.WhenAll(b0.Job.Completion, b1.Job.Completion).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["b1:aborting", "b1:COMPLETED(Input/output error)", "b1:concluded", "b1:null", "b0:aborting", "b0:CANCELLED", "b0:concluded", "b0:null"], Take());
    }

    [Fact]
    public async Task Cancelling_a_waiting_grouped_job_aborts_the_transaction()
    {
        var b0 = Backup("b0", "src", "tgt");
        var b1 = Backup("b1", "src2", "tgt2", speed: 1);
        await BlockTransaction.RunAsync(_f.Graph, [b0, b1], grouped: true);
        while (b0.Job!.Status != JobStatus.Waiting)
            await Task.Delay(2);
        Take();

        await b0.Job.CancelAsync();
        await b1.Job!.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["b1:aborting", "b1:CANCELLED", "b1:concluded", "b1:null", "b0:aborting", "b0:CANCELLED", "b0:concluded", "b0:null"], Take());
    }

    [Fact]
    public async Task Snapshot_and_backup_in_one_transaction_share_one_instant_under_guest_writes()
    {
        var src = _f.Graph.FindNode("src")!;
        var frozen = src.File!.Filename;
        var snapshot = _f.PathOf("snap.qcow2");
        // The backup copies the new overlay (empty: it shows the frozen base) while writes land in that overlay.
        var backup = Backup("b0", "ov", "tgt", speed: 4 * Mib);
        await BlockTransaction.RunAsync(_f.Graph, [new SnapshotSyncAction { NodeName = "src", SnapshotFile = snapshot, SnapshotNodeName = "ov" }, backup], grouped: false);
        var overlay = _f.Graph.FindNode("ov")!;
        var random = new Random(7);
        var data = new byte[5000];
        var writes = 0;
        while (backup.Job!.Status is JobStatus.Running or JobStatus.Paused)
        {
            random.NextBytes(data);
            await overlay.WriteAsync(random.NextInt64(0, (8 * Mib) - data.Length), data);
            writes++;
            await Task.Delay(1);
        }
        await backup.Job.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Null(backup.Job.Error);
        Assert.True(writes > 50, $"only {writes} writes raced the backup");
        Assert.Equal(0, await BackupFixture.CompareAsync(frozen, "qcow2", _tgt, "qcow2"));
        Assert.Equal(1, await BackupFixture.CompareAsync(snapshot, "qcow2", _tgt, "qcow2"));
    }

    [Fact]
    public async Task Drive_backup_creates_the_target_copies_and_closes_it()
    {
        var path = _f.PathOf("drive.qcow2");
        var action = DriveBackup("d0", "src2", path);
        await BlockTransaction.RunAsync(_f.Graph, [action], grouped: false);
        await action.Job!.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(action.Job.Error);
        Assert.DoesNotContain(_f.Graph.Nodes, n => n.Filename == path);
        Assert.Equal(0, await BackupFixture.CompareAsync(_src2, "raw", path, "qcow2"));
        await BackupFixture.Tool(QemuTools.QemuImg, "check", path);
        var (_, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", path);
        Assert.Contains("file format: qcow2", info, StringComparison.Ordinal);
    }

    private IReadOnlyList<string> Take()
    {
        var list = new List<string>();
        while (_events.TryDequeue(out var e))
            list.Add(e);
        return list;
    }

    private async Task<string> QcowOverAsync(string raw, string name)
    {
        var path = _f.PathOf(name);
        await BackupFixture.Tool(QemuTools.QemuImg, "convert", "-f", "raw", "-O", "qcow2", raw, path);
        return path;
    }

    private static BackupAction Backup(string id, string device, string target, long speed = 0, bool autoFinalize = true) => new()
    {
        Options = new BackupJobOptions { JobId = id, Device = device, Target = target, Sync = BackupSyncMode.Full, Job = new JobOptions { Speed = speed, AutoFinalize = autoFinalize } },
    };

    private static BackupAction DriveBackup(string id, string device, string path)
    {
        var options = new BackupJobOptions { JobId = id, Device = device, Target = path, Sync = BackupSyncMode.Full };
        return new BackupAction { Options = options, Drive = new DriveBackupOptions { Backup = options, Format = "qcow2" } };
    }
}
