using System.Text.Json.Nodes;
using Qmp.Machine.Qom;

namespace Qmp.Machine.Tests.Qom;

public sealed class DevicePropertyTests
{
    public static TheoryData<string> ConcreteDeviceTypes()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _, isAbstract) in QomTypes.All)
        {
            if (!isAbstract && QomTypes.Implements(name, "device") && DeviceCatalog.Create(name) is not null)
                data.Add(name);
        }
        return data;
    }

    // Writing back what a property reads must be accepted and change nothing (before realize).
    [Theory]
    [MemberData(nameof(ConcreteDeviceTypes))]
    public void Every_property_reads_and_accepts_its_own_value_before_realize(string typeName)
    {
        var device = DeviceCatalog.Create(typeName)!;
        Assert.Equal(typeName, device.TypeName);
        foreach (var property in device.QomProperties())
        {
            var value = property.Get();
            property.Set(value?.DeepClone());
            Assert.True(JsonNode.DeepEquals(value, property.Get()), $"{typeName}.{property.Name}");
        }
    }

    [Fact]
    public void Catalog_knows_every_concrete_device_type_qom_lists()
    {
        var missing = QomTypes.All.Where(t => !t.Abstract && QomTypes.Implements(t.Name, "device") && DeviceCatalog.Create(t.Name) is null)
            .Select(t => t.Name).ToList();
        Assert.Equal(["i440FX", "PIIX3", "i440FX-pcihost"], missing);
    }

    [Fact]
    public void Wrong_type_for_an_integer_property_is_refused_with_qemus_text()
    {
        var property = DeviceCatalog.Create("isa-debug-exit")!.QomProperties().Single(p => p.Name == "iobase");
        var e = Assert.Throws<MachineOperationException>(() => property.Set(JsonValue.Create("0xf4")));
        Assert.Equal("Invalid parameter type for 'iobase', expected: integer", e.Message);
    }
}
