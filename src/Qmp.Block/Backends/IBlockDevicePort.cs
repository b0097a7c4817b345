namespace Qmp.Block.Backends;

/// <summary>
/// The device side of a <see cref="BlockBackend"/> (QEMU's BlockDevOps): how the block layer quiesces a
/// device frontend and tells it about changes. The contract for drained sections: on
/// <see cref="DrainedBegin"/> stop taking new requests from the guest; report busy from
/// <see cref="DrainedPoll"/> until the device's own requests are done; on <see cref="DrainedEnd"/>
/// re-arm guest notifications and look again for requests that arrived meanwhile.
/// </summary>
public interface IBlockDevicePort
{
    /// <summary>The device's QOM path, which query-block shows as <c>qdev</c>.</summary>
    string QomPath { get; }

    /// <summary>Stop pulling requests from the guest. May be called from any thread.</summary>
    void DrainedBegin();

    /// <summary>Resume and re-scan for requests. May be called from any thread.</summary>
    void DrainedEnd();

    /// <summary>Whether the device still has requests of its own in flight.</summary>
    bool DrainedPoll();

    /// <summary>The medium's size changed (block_resize): tell the guest.</summary>
    void Resized();
}
