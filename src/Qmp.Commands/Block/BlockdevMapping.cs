using Qmp.Schema;
using Domain = Qmp.Block.Options;

namespace Qmp.Commands.Block;

/// <summary>Turns the schema's BlockdevOptions (blockdev-add, -blockdev, -drive) into the block layer's options, one driver per case.</summary>
public static class BlockdevMapping
{
    /// <summary>The domain form of <paramref name="options"/>.</summary>
    public static Domain.BlockdevOptions ToDomain(BlockdevOptions options)
    {
        Domain.BlockdevOptions driver = options.Driver switch
        {
            BlockdevDriver.File => new Domain.FileBlockdevOptions
            {
                Filename = options.File!.Filename,
                Locking = options.File.Locking == OnOffAuto.Off ? "off" : "on",
            },
            BlockdevDriver.Raw => new Domain.RawBlockdevOptions
            {
                File = Reference(options.Raw!.File),
                Offset = options.Raw.Offset ?? 0,
                Size = options.Raw.Size,
            },
            BlockdevDriver.Qcow2 => new Domain.Qcow2BlockdevOptions
            {
                File = Reference(options.Qcow2!.File),
                Backing = options.Qcow2.Backing is { } backing && (backing.Definition is not null || backing.Reference is { Length: > 0 })
                    ? new Domain.BlockdevRef { Reference = backing.Reference, Definition = backing.Definition is null ? null : ToDomain(backing.Definition) }
                    : null,
                // backing: null, or the deprecated "", opens no backing file at all.
                NoBacking = options.Qcow2.Backing is { Definition: null, Reference: null or "" },
                LazyRefcounts = options.Qcow2.LazyRefcounts,
            },
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Driver, null),
        };
        return driver with
        {
            NodeName = options.NodeName,
            ReadOnly = options.ReadOnly ?? false,
            AutoReadOnly = options.AutoReadOnly ?? false,
            ForceShare = options.ForceShare ?? false,
            CacheDirect = options.Cache?.Direct ?? false,
            CacheNoFlush = options.Cache?.NoFlush ?? false,
            DiscardUnmap = options.Discard == BlockdevDiscardOptions.Unmap,
            DetectZeroes = options.DetectZeroes switch
            {
                BlockdevDetectZeroesOptions.On => Qmp.Block.DetectZeroes.On,
                BlockdevDetectZeroesOptions.Unmap => Qmp.Block.DetectZeroes.Unmap,
                _ => Qmp.Block.DetectZeroes.Off,
            },
        };
    }

    private static Domain.BlockdevRef Reference(BlockdevRef reference) => new()
    {
        Reference = reference.Reference,
        Definition = reference.Definition is null ? null : ToDomain(reference.Definition),
    };
}
