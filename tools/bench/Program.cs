using Qmp.Bench;

// qmp-bench [qmp|cpu|io|block|migrate] [options]: benchmarks that print figures, side by side with QEMU where
// it is installed. "qmp" (the default) measures the monitor, "cpu" guest instructions per second
// on a compute-bound guest, "io" the cost of port-I/O and MMIO dispatch, "block" qcow2 I/O and
// qimg convert/compare against qemu-img, "migrate" live migration over a unix socket (QEMU and qmpd).
var mode = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "qmp";
var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
return mode switch
{
    "qmp" => await QmpBench.RunAsync(rest),
    "cpu" => await CpuBench.RunAsync(rest),
    "io" => IoBench.Run(rest),
    "block" => await BlockBench.RunAsync(rest),
    "migrate" => await MigrationBench.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: qmp-bench [qmp|cpu|io|block|migrate] [options]");
    return 2;
}
