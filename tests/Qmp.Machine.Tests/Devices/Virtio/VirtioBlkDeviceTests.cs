using System.Text.Json.Nodes;
using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Qom;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioBlkDeviceTests
{
    private const ulong SegMax = 1UL << 2, Geometry = 1UL << 4, ReadOnly = 1UL << 5, BlkSize = 1UL << 6, Flush = 1UL << 9;
    private const ulong Topology = 1UL << 10, ConfigWce = 1UL << 11, MultiQueue = 1UL << 12, Discard = 1UL << 13, WriteZeroes = 1UL << 14;
    private const ulong Transport = VirtioBlkTestRig.DefaultFeatures;

    [Fact]
    public async Task Identity_is_qemus_modern_virtio_blk_pci()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        Assert.Equal(0x10421AF4u, rig.Pci.ConfigRead(VirtioBlkTestRig.Slot, 0, 0x00, 4));
        // PCI_CLASS_STORAGE_SCSI, revision 1 (modern only).
        Assert.Equal(0x01000001u, rig.Pci.ConfigRead(VirtioBlkTestRig.Slot, 0, 0x08, 4));
        Assert.Equal(0x11001AF4u, rig.Pci.ConfigRead(VirtioBlkTestRig.Slot, 0, 0x2C, 4));
        Assert.Equal("0000:00:04.0/virtio-blk", rig.Device.SectionName);
        Assert.Equal("/machine/peripheral/vd0/virtio-backend", rig.Blk.QomPath);
        Assert.Same(rig.Blk, rig.Blk.DriveBackend!.Device);
    }

    [Fact]
    public async Task Default_features_are_qemu_7_2s()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        Assert.Equal(SegMax | Geometry | BlkSize | Flush | Topology | ConfigWce | Discard | WriteZeroes | Transport, rig.Driver.DeviceFeatures);
    }

    [Fact]
    public async Task Read_only_node_multiple_queues_and_switched_off_features_change_the_offer()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d =>
        {
            d.NumQueues = 2;
            d.Discard = false;
            d.WriteZeroes = false;
            d.ConfigWce = false;
        }, readOnly: true);
        Assert.Equal(SegMax | Geometry | BlkSize | Flush | Topology | ReadOnly | MultiQueue | Transport, rig.Driver.DeviceFeatures);
        Assert.Equal(2u, rig.Driver.ReadCommon(0x12, 2));
    }

    [Fact]
    public async Task Config_space_matches_qemu_for_a_1_mib_raw_image()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        Assert.Equal(2048ul, ReadConfig(rig, 0, 4) | ((ulong)ReadConfig(rig, 4, 4) << 32));
        Assert.Equal(0u, ReadConfig(rig, 8, 4));
        Assert.Equal(254u, ReadConfig(rig, 12, 4));
        // Blank disk: 16 heads, 63 sectors, at least 2 cylinders.
        Assert.Equal(2u, ReadConfig(rig, 16, 2));
        Assert.Equal(16u, ReadConfig(rig, 18, 1));
        Assert.Equal(63u, ReadConfig(rig, 19, 1));
        Assert.Equal(512u, ReadConfig(rig, 20, 4));
        Assert.Equal(0u, ReadConfig(rig, 24, 4));
        Assert.Equal(0u, ReadConfig(rig, 28, 4));
        Assert.Equal(1u, ReadConfig(rig, 32, 1));
        Assert.Equal(1u, ReadConfig(rig, 34, 2));
        Assert.Equal(4194303u, ReadConfig(rig, 36, 4));
        Assert.Equal(1u, ReadConfig(rig, 40, 4));
        Assert.Equal(1u, ReadConfig(rig, 44, 4));
        Assert.Equal(4194303u, ReadConfig(rig, 48, 4));
        Assert.Equal(1u, ReadConfig(rig, 52, 4));
        Assert.Equal(1u, ReadConfig(rig, 56, 1));
        // QEMU's config is 57 bytes with discard and write-zeroes: beyond reads all ones.
        Assert.Equal(uint.MaxValue, ReadConfig(rig, 56, 4));
    }

    [Fact]
    public async Task Config_size_shrinks_to_qemus_minimum_without_discard_and_write_zeroes()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d => (d.Discard, d.WriteZeroes) = (false, false));
        Assert.Equal(1u, ReadConfig(rig, 34, 2));
        Assert.Equal(uint.MaxValue, ReadConfig(rig, 36, 4));
    }

    [Fact]
    public async Task Properties_shape_seg_max_block_sizes_and_geometry()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d =>
        {
            d.QueueSize = 128;
            d.PhysicalBlockSize = 4096;
            d.MinIoSize = 4096;
            d.OptIoSize = 65536;
            d.DiscardGranularity = 4096;
            d.MaxDiscardSectors = 1024;
            (d.Cylinders, d.Heads, d.Sectors) = (100, 4, 8);
        });
        Assert.Equal(126u, ReadConfig(rig, 12, 4));
        Assert.Equal(100u, ReadConfig(rig, 16, 2));
        Assert.Equal(4u, ReadConfig(rig, 18, 1));
        Assert.Equal(8u, ReadConfig(rig, 19, 1));
        Assert.Equal(3u, ReadConfig(rig, 24, 1));
        Assert.Equal(8u, ReadConfig(rig, 26, 2));
        Assert.Equal(128u, ReadConfig(rig, 28, 4));
        Assert.Equal(1024u, ReadConfig(rig, 36, 4));
        Assert.Equal(8u, ReadConfig(rig, 44, 4));
    }

    [Fact]
    public async Task Geometry_follows_the_mbr_partition_table_like_qemus_guess()
    {
        var image = new byte[1 << 20];
        // One partition ending on head 3, sector 32: 4 heads × 32 sectors.
        image[0x1BE + 5] = 3;
        image[0x1BE + 6] = 32;
        image[0x1BE + 12] = 0x80;
        image[510] = 0x55;
        image[511] = 0xAA;
        await using var rig = await VirtioBlkTestRig.CreateAsync(image: image);
        Assert.Equal(16u, ReadConfig(rig, 16, 2));
        Assert.Equal(4u, ReadConfig(rig, 18, 1));
        Assert.Equal(32u, ReadConfig(rig, 19, 1));
    }

    [Fact]
    public async Task Driver_switches_the_write_cache_through_config_and_reset_restores_it()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        rig.Start(VirtioBlkTestRig.DefaultFeatures | Flush | ConfigWce);
        rig.Pci.Memory.Write(VirtioTestDriver.BarAddress + 0x2000 + 32, 1, 0);
        Assert.False(rig.Blk.WriteCacheEnabled);
        Assert.Equal(0u, ReadConfig(rig, 32, 1));
        rig.Driver.Status = 0;
        Assert.True(rig.Blk.WriteCacheEnabled);
    }

    [Fact]
    public async Task Driver_without_config_wce_or_flush_gets_writethrough_at_driver_ok()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        Assert.True(rig.Driver.Negotiate(VirtioBlkTestRig.DefaultFeatures));
        // As QEMU's virtio_blk_set_status: FEATURES_OK alone changes nothing.
        Assert.Equal(1u, ReadConfig(rig, 32, 1));
        rig.Driver.Status |= VirtioTestDriver.DriverOk;
        Assert.Equal(0u, ReadConfig(rig, 32, 1));
        Assert.False(rig.Blk.WriteCacheEnabled);
        rig.Driver.Status = 0;
        Assert.Equal(1u, ReadConfig(rig, 32, 1));
    }

    [Fact]
    public async Task Resize_updates_the_capacity_and_raises_a_config_interrupt()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        rig.Start();
        var generation = rig.Driver.ReadCommon(0x15, 1);
        await rig.Node.TruncateAsync(2 << 20);
        rig.Blk.Resized();
        rig.RunPosted();
        Assert.Equal(4096u, ReadConfig(rig, 0, 4));
        Assert.NotEqual(generation, rig.Driver.ReadCommon(0x15, 1));
        Assert.Equal(3, rig.Driver.ReadIsr());
    }

    [Fact]
    public void Every_property_reads_and_accepts_its_own_value_and_has_qemus_default()
    {
        var device = DeviceCatalog.Create("virtio-blk-pci", "vd0")!;
        Assert.True(DeviceCatalog.UserCreatable.Contains("virtio-blk-pci"));
        var properties = device.QomProperties().ToDictionary(p => p.Name);
        foreach (var property in properties.Values)
        {
            var value = property.Get();
            property.Set(value?.DeepClone());
            Assert.True(JsonNode.DeepEquals(value, property.Get()), property.Name);
        }
        Assert.Equal(("str", null), (properties["drive"].Type, properties["drive"].Get()?.ToJsonString()));
        Assert.Equal("65535", properties["num-queues"].Get()!.ToJsonString());
        Assert.Equal("256", properties["queue-size"].Get()!.ToJsonString());
        Assert.Equal(("BlockdevOnError", "\"auto\""), (properties["werror"].Type, properties["werror"].Get()!.ToJsonString()));
        Assert.Equal("\"auto\"", properties["write-cache"].Get()!.ToJsonString());
        Assert.Equal("4294967295", properties["discard_granularity"].Get()!.ToJsonString());
    }

    [Fact]
    public void Qom_setters_take_qemus_enum_values_and_refuse_others()
    {
        var device = new VirtioBlkPci();
        var properties = device.QomProperties().ToDictionary(p => p.Name);
        properties["werror"].Set(JsonValue.Create("stop"));
        properties["rerror"].Set(JsonValue.Create("ignore"));
        properties["drive"].Set(JsonValue.Create("disk0"));
        Assert.Equal(Qmp.Block.Backends.BlockErrorPolicy.Stop, device.WriteErrorPolicy);
        Assert.Equal(Qmp.Block.Backends.BlockErrorPolicy.Ignore, device.ReadErrorPolicy);
        Assert.Equal("disk0", device.Drive);
        var e = Assert.Throws<MachineOperationException>(() => properties["werror"].Set(JsonValue.Create("bogus")));
        Assert.Equal("Parameter 'werror' does not accept value 'bogus'", e.Message);
        e = Assert.Throws<MachineOperationException>(() => properties["queue-size"].Set(JsonValue.Create(70000)));
        Assert.Equal("Parameter 'queue-size' expects uint16_t", e.Message);
    }

    private static uint ReadConfig(VirtioBlkTestRig rig, int offset, int size) =>
        (uint)rig.Pci.Memory.Read(VirtioTestDriver.BarAddress + 0x2000 + (ulong)offset, size);
}
