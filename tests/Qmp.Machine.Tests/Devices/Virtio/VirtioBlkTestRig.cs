using System.Buffers.Binary;
using Qmp.Block;
using Qmp.Block.Options;
using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Tests.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Virtio;

/// <summary>
/// A virtio-blk-pci at slot 4 of a PCI test board whose block graph holds node <c>disk0</c>, a raw image
/// in a temp file filled with <see cref="Pattern"/>, and a guest-side driver that lays requests out in RAM.
/// The test thread plays the machine thread: completions run when <see cref="RunPosted"/> is called.
/// </summary>
internal sealed class VirtioBlkTestRig : IAsyncDisposable
{
    public const int Slot = 4;
    public const ulong DefaultFeatures = VirtioTestDriver.VersionOne | VirtioTestDriver.IndirectDesc | VirtioTestDriver.EventIdx;
    public const uint TypeIn = 0, TypeOut = 1, TypeFlush = 4, TypeGetId = 8, TypeDiscard = 11, TypeWriteZeroes = 13;
    public const byte StatusOk = 0, StatusIoError = 1, StatusUnsupported = 2;
    public const int DataOffset = 0x1000;

    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(10);

    private VirtioBlkTestRig(PciTestBoard pci, string imagePath, BlockNode node, VirtioBlkPci device)
    {
        Pci = pci;
        ImagePath = imagePath;
        Node = node;
        Device = device;
    }

    public PciTestBoard Pci { get; }

    public string ImagePath { get; }

    public BlockNode Node { get; }

    public VirtioBlkPci Device { get; }

    public VirtioBlk Blk => Device.Blk;

    public BlockGraph Graph => Pci.Board.Context.Block;

    public RecordingControl Control => Pci.Board.Control;

    public VirtioTestDriver Driver { get; private set; } = null!;

    public List<VirtioBlkTestQueue> Queues { get; } = [];

    /// <summary>The image's initial content: a byte per offset that differs from sector to sector.</summary>
    public static byte Pattern(long offset) => (byte)((offset % 251) ^ (offset >> 9));

    /// <summary>
    /// Builds the board, the image and the device (<c>id=vd0,drive=disk0</c> unless <paramref name="configure"/>
    /// says otherwise) and plugs it unless <paramref name="plug"/> is false.
    /// </summary>
    public static async Task<VirtioBlkTestRig> CreateAsync(Action<VirtioBlkPci>? configure = null, int diskBytes = 1 << 20, bool readOnly = false, bool plug = true, byte[]? image = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"qmpd-vblk-{Guid.NewGuid():N}.img");
        var content = image ?? [.. Enumerable.Range(0, diskBytes).Select(i => Pattern(i))];
        await File.WriteAllBytesAsync(path, content);
        var pci = new PciTestBoard();
        var node = await pci.Board.Context.Block.AddAsync(new RawBlockdevOptions
        {
            NodeName = "disk0",
            ReadOnly = readOnly,
            DiscardUnmap = true,
            File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }),
        });
        var device = new VirtioBlkPci { Id = "vd0", Drive = "disk0" };
        configure?.Invoke(device);
        var rig = new VirtioBlkTestRig(pci, path, node, device);
        if (plug)
            rig.Plug();
        return rig;
    }

    public void Plug()
    {
        Pci.Host.Plug(Device, Slot);
        Driver = new VirtioTestDriver(Pci, Slot);
    }

    /// <summary>Negotiates <paramref name="features"/> and brings up <paramref name="queues"/> queues of <paramref name="size"/>.</summary>
    public void Start(ulong features = DefaultFeatures, int queues = 1, ushort size = 32)
    {
        Assert.True(Driver.Negotiate(features));
        for (var q = 0; q < queues; q++)
        {
            var descriptors = 0x10000UL + ((ulong)q * 0x3000);
            Driver.SetupQueue(q, size, descriptors, descriptors + 0x1000, descriptors + 0x2000);
            Queues.Add(new VirtioBlkTestQueue(Pci.Memory, q, size, descriptors, descriptors + 0x1000, descriptors + 0x2000));
        }
        Driver.Status = VirtioTestDriver.Acknowledge | VirtioTestDriver.Driver | VirtioTestDriver.FeaturesOk | VirtioTestDriver.DriverOk;
    }

    /// <summary>Guest RAM for request <paramref name="slot"/> of queue <paramref name="queue"/>: header, status at +0x10, indirect table at +0x100, data at +0x1000.</summary>
    public static ulong Area(int queue, int slot) => 0x40000UL + ((ulong)queue * 0x20000) + ((ulong)slot * 0x4000);

    /// <summary>
    /// Lays a request out in slot <paramref name="slot"/> (descriptors 3×slot on) and makes it available:
    /// the header, the out data in <paramref name="outParts"/> buffers, <paramref name="inData"/> writable bytes, the status byte.
    /// </summary>
    public ushort Submit(int queue, int slot, uint type, ulong sector, byte[]? outData = null, int inData = 0, bool indirect = false, bool notify = true, int outParts = 1)
    {
        var area = Area(queue, slot);
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, type);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], sector);
        Pci.Memory.Write(area, header);
        Pci.Memory.Write(area + 0x10, 1, 0xFF);
        var buffers = new List<(ulong Address, uint Length, bool Write)> { (area, 16, false) };
        if (outData is { Length: > 0 })
        {
            Pci.Memory.Write(area + DataOffset, outData);
            var part = (outData.Length + outParts - 1) / outParts;
            for (var done = 0; done < outData.Length; done += part)
                buffers.Add((area + DataOffset + (ulong)done, (uint)Math.Min(part, outData.Length - done), false));
        }
        if (inData > 0)
        {
            Pci.Memory.Write(area + DataOffset, new byte[inData]);
            buffers.Add((area + DataOffset, (uint)inData, true));
        }
        buffers.Add((area + 0x10, 1, true));
        var q = Queues[queue];
        var head = (ushort)(3 * slot);
        var table = indirect ? area + 0x100 : q.Descriptors;
        var first = indirect ? 0 : head;
        for (var i = 0; i < buffers.Count; i++)
        {
            var (address, length, write) = buffers[i];
            var flags = (ushort)((write ? VirtioTestDriver.Write : 0) | (i + 1 < buffers.Count ? VirtioTestDriver.Next : 0));
            q.WriteDescriptor(table, first + i, address, length, flags, (ushort)(first + i + 1));
        }
        if (indirect)
            q.WriteDescriptor(q.Descriptors, head, table, (uint)(16 * buffers.Count), VirtioTestDriver.Indirect);
        q.MakeAvailable(head);
        if (notify)
            Driver.Notify(queue);
        return head;
    }

    public ushort Read(int queue, int slot, ulong sector, int length, bool indirect = false) =>
        Submit(queue, slot, TypeIn, sector, inData: length, indirect: indirect);

    public ushort Write(int queue, int slot, ulong sector, byte[] data, int parts = 1) =>
        Submit(queue, slot, TypeOut, sector, outData: data, outParts: parts);

    /// <summary>A discard or write-zeroes request with one segment (or the segments given).</summary>
    public ushort Segments(int queue, int slot, uint type, params (ulong Sector, uint Count, uint Flags)[] segments)
    {
        var data = new byte[16 * segments.Length];
        for (var i = 0; i < segments.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 * i), segments[i].Sector);
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan((16 * i) + 8), segments[i].Count);
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan((16 * i) + 12), segments[i].Flags);
        }
        return Submit(queue, slot, type, 0, outData: data);
    }

    public byte Status(int queue, int slot) => (byte)Pci.Memory.Read(Area(queue, slot) + 0x10, 1);

    public byte[] InData(int queue, int slot, int length)
    {
        var bytes = new byte[length];
        Pci.Memory.Read(Area(queue, slot) + DataOffset, bytes);
        return bytes;
    }

    public void RunPosted() => Control.RunPosted();

    /// <summary>Plays the machine thread until <paramref name="condition"/> holds.</summary>
    public async Task PumpUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + _timeout;
        while (true)
        {
            RunPosted();
            if (condition())
                return;
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the device");
            await Task.Delay(1);
        }
    }

    /// <summary>Waits until queue <paramref name="queue"/> has returned <paramref name="count"/> elements.</summary>
    public Task WaitUsedAsync(int queue, int count) => PumpUntilAsync(() => Queues[queue].UsedIndex >= count);

    /// <summary>The image file's bytes as the host sees them.</summary>
    public byte[] ImageBytes(long offset, int length)
    {
        using var file = new FileStream(ImagePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var bytes = new byte[length];
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    public static byte[] Expected(long offset, int length) => [.. Enumerable.Range(0, length).Select(i => Pattern(offset + i))];

    public async ValueTask DisposeAsync()
    {
        if (Device.Realized)
            Device.Unrealize();
        await Graph.DisposeAsync();
        Pci.Dispose();
        File.Delete(ImagePath);
    }
}
