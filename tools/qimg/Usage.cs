namespace Qmp.Img;

/// <summary>The help text (qemu-img --help, reduced to the commands qimg has).</summary>
internal static class Usage
{
    public static int Print()
    {
        Terminal.Out.Write($"""
            {Terminal.ProgramName}: a qemu-img work-alike over qmpd's block layer (formats: raw qcow2)
            usage: {Terminal.ProgramName} [standard options] command [command options]

            Command syntax:
              check [-q] [-U] [-f fmt] [--output=ofmt] [-r [leaks | all]] filename
              compare [-f fmt] [-F fmt] [-p] [-q] [-s] [-U] filename1 filename2
              convert [-f fmt] [-O output_fmt] [-o options] [-p] [-q] [-n] [-W] [-m num_coroutines]
                      [-S sparse_size] [-t cache] [-T src_cache] [-U] [--target-is-zero] filename [filename2 [...]] output_filename
              create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]
              info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename
              map [-f fmt] [--output=ofmt] [--start-offset=offset] [--max-length=len] [-U] filename
              resize [-f fmt] [-q] [--shrink] filename [+ | -]size

            Exit codes of check: 0 no errors, 1 check failed, 2 corruptions, 3 leaks only, 63 format without checks.
            Exit codes of compare: 0 identical, 1 different, 2 error opening an image, 3 error reading allocation, 4 read error.

            """.Replace("\r", "", StringComparison.Ordinal));
        return 0;
    }
}
