using Qmp.Block.Jobs;
using Qmp.Schema;
using Domain = Qmp.Block.Options;

namespace Qmp.Commands.Block;

/// <summary>block-create.json: blockdev-create, which formats a <c>file</c> or <c>qcow2</c> image in a job of type create.</summary>
public sealed class BlockCreateCommands(Machine.Machine machine) : IBlockCreateCommands
{
    /// <inheritdoc/>
    public ValueTask BlockdevCreateAsync(BlockdevCreateArguments arguments, CancellationToken cancellationToken) => BlockErrors.RunAsync(async () =>
    {
        var options = arguments.Options;
        CreateJobOptions create = options.Driver switch
        {
            BlockdevDriver.File => new CreateJobFileOptions
            {
                Filename = options.File!.Filename,
                Size = options.File.Size,
                Preallocation = (options.File.Preallocation ?? PreallocMode.Off).ToWire(),
                NoCow = options.File.Nocow ?? false,
                ExtentSizeHint = options.File.ExtentSizeHint,
            },
            BlockdevDriver.Qcow2 => new CreateJobQcow2Options
            {
                File = new Domain.BlockdevRef
                {
                    Reference = options.Qcow2!.File.Reference,
                    Definition = options.Qcow2.File.Definition is { } definition ? BlockdevMapping.ToDomain(definition) : null,
                },
                Size = options.Qcow2.Size,
                Version = options.Qcow2.Version == BlockdevQcow2Version.V2 ? 2 : 3,
                BackingFile = options.Qcow2.BackingFile,
                BackingFormat = options.Qcow2.BackingFmt?.ToWire(),
                ClusterSize = options.Qcow2.ClusterSize ?? 65536,
                Preallocation = (options.Qcow2.Preallocation ?? PreallocMode.Off).ToWire(),
                LazyRefcounts = options.Qcow2.LazyRefcounts ?? false,
                RefcountBits = options.Qcow2.RefcountBits ?? 16,
            },
            // A driver in BlockdevDriver that has no creation options (raw), checked before the job id as in QEMU.
            _ => throw Qmp.Schema.Runtime.QmpErrorException.Generic("Driver does not support blockdev-create"),
        };
        await CreateJob.StartAsync(machine.Block, arguments.JobId, create, cancellationToken).ConfigureAwait(false);
    });
}
