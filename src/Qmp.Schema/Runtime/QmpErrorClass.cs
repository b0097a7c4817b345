namespace Qmp.Schema.Runtime;

/// <summary>QEMU's QapiErrorClass: the only error classes a QMP client ever sees.</summary>
public enum QmpErrorClass
{
    /// <summary>Everything without a more specific class.</summary>
    GenericError,

    /// <summary>Unknown command, or a command before negotiation.</summary>
    CommandNotFound,

    /// <summary>A block job that does not exist.</summary>
    DeviceNotActive,

    /// <summary>A device, QOM path or device type that does not exist.</summary>
    DeviceNotFound,

    /// <summary>A KVM capability is missing.</summary>
    KVMMissingCap,
}
