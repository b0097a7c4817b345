namespace Qmp.Machine;

/// <summary>
/// A <c>-object memory-backend-ram|memory-backend-memfd,id=ID,size=S[,share=on]</c> that the
/// machine's RAM uses (<c>-machine memory-backend=ID</c>).
/// </summary>
/// <param name="Id">The object id, also the RAM block's name (QEMU's RAMBlock idstr).</param>
/// <param name="Type"><c>memory-backend-ram</c> or <c>memory-backend-memfd</c>.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Share">Map the pages MAP_SHARED (memfd's default is on, ram's off).</param>
public sealed record MemoryBackendConfig(string Id, string Type, long Size, bool Share);
