using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>blockdev-create's job: images byte-identical to QEMU's (qemu-img create makes the same bytes as QEMU 7.2's blockdev-create), QEMU's errors, the job's life.</summary>
public sealed class CreateJobTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    public static TheoryData<string, string[]> Qcow2Cases() => new()
    {
        { """{"size":67108864}""", ["64M"] },
        { """{"size":1073741824,"version":2,"cluster":4096,"backing":"base.raw","fmt":"raw"}""", ["-o", "compat=0.10,cluster_size=4096", "-b", "base.raw", "-F", "raw", "-u", "1G"] },
        { """{"size":10485760,"lazy":true,"refcount":64,"prealloc":"metadata"}""", ["-o", "lazy_refcounts=on,refcount_bits=64,preallocation=metadata", "10M"] },
    };

    [Theory]
    [MemberData(nameof(Qcow2Cases))]
    public async Task Create_file_then_qcow2_is_byte_identical_to_QEMUs(string description, string[] qemuImgArguments)
    {
        var ours = _dir.PathOf("ours.qcow2");
        var theirs = _dir.PathOf("theirs.qcow2");
        var spec = System.Text.Json.JsonDocument.Parse(description).RootElement;
        await RunAsync("c1", new CreateJobFileOptions { Filename = ours, Size = 0 });
        await _graph.AddAsync(new FileBlockdevOptions { NodeName = "f", Filename = ours });
        await RunAsync("c2", new CreateJobQcow2Options
        {
            File = BlockdevRef.To("f"),
            Size = spec.GetProperty("size").GetUInt64(),
            Version = spec.TryGetProperty("version", out var v) ? v.GetInt32() : 3,
            ClusterSize = spec.TryGetProperty("cluster", out var c) ? c.GetUInt64() : 65536,
            BackingFile = spec.TryGetProperty("backing", out var b) ? b.GetString() : null,
            BackingFormat = spec.TryGetProperty("fmt", out var f) ? f.GetString() : null,
            LazyRefcounts = spec.TryGetProperty("lazy", out var l) && l.GetBoolean(),
            RefcountBits = spec.TryGetProperty("refcount", out var r) ? r.GetInt64() : 16,
            Preallocation = spec.TryGetProperty("prealloc", out var p) ? p.GetString()! : "off",
        });
        await _graph.DeleteAsync("f");
        await Tool(QemuTools.QemuImg, ["create", "-q", "-f", "qcow2", .. qemuImgArguments[..^1], theirs, qemuImgArguments[^1]]);
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(theirs), await System.IO.File.ReadAllBytesAsync(ours));
    }

    [Fact]
    public async Task Create_job_concludes_without_block_job_events_and_waits_for_dismiss()
    {
        var statuses = new List<string>();
        _graph.Jobs.StatusChanged += (_, s) => statuses.Add(JobStateMachine.Name(s));
        var path = _dir.PathOf("a.raw");
        var job = await RunAsync("c1", new CreateJobFileOptions { Filename = path, Size = 1000 });

        Assert.Equal(["created", "running", "waiting", "pending", "concluded"], statuses);
        Assert.False(job.IsBlockJob);
        Assert.Equal((1, 1), (job.CurrentProgress, job.TotalProgress));
        Assert.Same(job, Assert.Single(_graph.Jobs.Jobs));
        Assert.Equal("Block job 'c1' not found", Assert.Throws<JobException>(() => _graph.Jobs.FindBlockJob("c1")).Message);
        Assert.Equal(1000, new FileInfo(path).Length);
        job.Dismiss();
        Assert.Empty(_graph.Jobs.Jobs);
        Assert.Equal("null", statuses[^1]);
    }

    [Fact]
    public async Task Create_file_truncates_an_existing_file_and_preallocates()
    {
        var path = _dir.CreateFile("a.raw", TempDirectory.Pattern(1 << 20, 3));
        await RunAsync("c1", new CreateJobFileOptions { Filename = path, Size = 3 << 20, Preallocation = "full" });
        var bytes = await System.IO.File.ReadAllBytesAsync(path);
        Assert.Equal(3 << 20, bytes.Length);
        Assert.DoesNotContain(bytes, x => x != 0);
        var (_, map) = await QemuTools.RunAsync(QemuTools.QemuImg, "map", "--output=json", "-f", "raw", path);
        Assert.DoesNotContain("\"data\": false", map, StringComparison.Ordinal);

        var falloc = _dir.PathOf("b.raw");
        await RunAsync("c2", new CreateJobFileOptions { Filename = falloc, Size = 2 << 20, Preallocation = "falloc", NoCow = true });
        Assert.Equal(2 << 20, new FileInfo(falloc).Length);
    }

    [Fact]
    public async Task Create_reports_QEMUs_errors_in_the_job()
    {
        _dir.CreateFile("ro.raw", []);
        await _graph.AddAsync(new FileBlockdevOptions { NodeName = "ro", Filename = _dir.PathOf("ro.raw"), ReadOnly = true });
        await _graph.AddAsync(new FileBlockdevOptions { NodeName = "rw", Filename = _dir.CreateFile("rw.raw", []) });

        Assert.Equal("Image size must be a multiple of 512 bytes", await ErrorAsync(new CreateJobQcow2Options { File = BlockdevRef.To("rw"), Size = 1000 }));
        Assert.Equal("Block node is read-only", await ErrorAsync(new CreateJobQcow2Options { File = BlockdevRef.To("ro"), Size = 1 << 20 }));
        Assert.Equal("Cannot find device='nonode' nor node-name='nonode'", await ErrorAsync(new CreateJobQcow2Options { File = BlockdevRef.To("nonode"), Size = 1 << 20 }));
        Assert.Equal("Cluster size must be a power of two between 512 and 2048k",
            await ErrorAsync(new CreateJobQcow2Options { File = BlockdevRef.To("rw"), Size = 1 << 20, ClusterSize = 1000, Version = 2, LazyRefcounts = true }));
        Assert.Equal("Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)",
            await ErrorAsync(new CreateJobQcow2Options { File = BlockdevRef.To("rw"), Size = 1 << 20, Version = 2, LazyRefcounts = true }));
        Assert.Equal("Backing format cannot be used without backing file", await ErrorAsync(new CreateJobQcow2Options { File = BlockdevRef.To("rw"), Size = 1 << 20, BackingFormat = "raw" }));
        Assert.Equal($"Could not create '{_dir.PathOf("nodir/x")}': No such file or directory", await ErrorAsync(new CreateJobFileOptions { Filename = _dir.PathOf("nodir/x"), Size = 0 }));
        Assert.Equal("Unsupported preallocation mode: metadata", await ErrorAsync(new CreateJobFileOptions { Filename = _dir.PathOf("m.raw"), Size = 1000, Preallocation = "metadata" }, beforeReply: false));
        // Nothing was written to the node a failed qcow2 creation named.
        Assert.Equal(0, new FileInfo(_dir.PathOf("rw.raw")).Length);
        await RunAsync("j1", new CreateJobFileOptions { Filename = _dir.PathOf("y"), Size = 0 });
        Assert.Equal("Job ID 'j1' already in use", (await Assert.ThrowsAsync<JobException>(() => CreateJob.StartAsync(_graph, "j1", new CreateJobFileOptions { Filename = _dir.PathOf("z"), Size = 0 }))).Message);
        Assert.Equal("Invalid job ID '1x'", (await Assert.ThrowsAsync<JobException>(() => CreateJob.StartAsync(_graph, "1x", new CreateJobFileOptions { Filename = _dir.PathOf("z"), Size = 0 }))).Message);
        Assert.False(System.IO.File.Exists(_dir.PathOf("z")));
    }

    // QEMU's qcow2 creation formats the node as it is (only qemu-img create empties the file): what lies past the new metadata stays.
    [Fact]
    public async Task Qcow2_creation_on_a_filled_file_keeps_its_length_and_the_image_checks_clean()
    {
        var path = _dir.PathOf("filled.qcow2");
        await RunAsync("c1", new CreateJobFileOptions { Filename = path, Size = 1 << 20, Preallocation = "full" });
        await _graph.AddAsync(new FileBlockdevOptions { NodeName = "f", Filename = path });
        await RunAsync("c2", new CreateJobQcow2Options { File = BlockdevRef.To("f"), Size = 1 << 20, ClusterSize = 4096, Version = 2, BackingFile = "b.raw", BackingFormat = "raw" });
        await _graph.DeleteAsync("f");

        Assert.Equal(1 << 20, new FileInfo(path).Length);
        var theirs = _dir.PathOf("theirs.qcow2");
        await Tool(QemuTools.QemuImg, ["create", "-q", "-f", "qcow2", "-o", "compat=0.10,cluster_size=4096", "-b", "b.raw", "-F", "raw", "-u", theirs, "1M"]);
        var expected = await System.IO.File.ReadAllBytesAsync(theirs);
        Assert.Equal(expected, (await System.IO.File.ReadAllBytesAsync(path))[..expected.Length]);
    }

    [Fact]
    public async Task Created_qcow2_image_opens_and_holds_data()
    {
        var path = _dir.PathOf("new.qcow2");
        await RunAsync("c1", new CreateJobFileOptions { Filename = path, Size = 0 });
        await RunAsync("c2", new CreateJobQcow2Options { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }), Size = 4 << 20 });
        var node = await _graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "disk", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }) });
        var data = new byte[65536];
        Array.Fill(data, (byte)0x5a);
        await node.WriteAsync(1 << 20, data);
        await _graph.DeleteAsync("disk");
        await Tool(QemuTools.QemuImg, ["check", path]);
        var (_, read) = await QemuTools.RunAsync(QemuTools.QemuIo, "-f", "qcow2", "-c", "read -P 0x5a 1M 64k", path);
        Assert.DoesNotContain("failed", read, StringComparison.Ordinal);
        var (_, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", path);
        Assert.Contains("virtual size: 4 MiB", info, StringComparison.Ordinal);
    }

    // Runs a creation with the job id "j0" and returns its error (the job is dismissed).
    private async Task<string> ErrorAsync(CreateJobOptions options, bool beforeReply = true)
    {
        var job = await CreateJob.StartAsync(_graph, "j0", options);
        // Argument errors conclude the job before StartAsync returns, as QEMU's reply follows them.
        if (beforeReply)
            Assert.Equal(Qmp.Block.Jobs.JobStatus.Concluded, job.Status);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        var error = job.Error ?? "(none)";
        job.Dismiss();
        return error;
    }

    private async Task<CreateJob> RunAsync(string id, CreateJobOptions options)
    {
        var job = await CreateJob.StartAsync(_graph, id, options);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(job.Error);
        Assert.Equal(Qmp.Block.Jobs.JobStatus.Concluded, job.Status);
        return job;
    }

    private static async Task Tool(string tool, string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
    }
}
