namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>Test classes that run code natively share one built harness.</summary>
[CollectionDefinition(Name)]
public sealed class NativeHarnessCollection : ICollectionFixture<NativeHarnessFixture>
{
    public const string Name = "Native CPU harness";
}
