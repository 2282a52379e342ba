using System.Runtime.InteropServices;

namespace DataPlane.Maps;

public enum BackendState : byte
{
    Active = 0,
    Terminating = 1,
    Quarantined = 2,
    Maintenance = 3,
}

/// <summary>A backend (cilium <c>struct lb4_backend</c>), keyed by a node-local id; 0 is invalid.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Lb4Backend
{
    /// <summary>Endpoint IPv4 address, host order.</summary>
    public uint Address;
    public ushort Port;
    public byte Proto;
    public BackendState State;
    /// <summary>The endpoint runs on this node (EndpointSlice nodeName == node name).</summary>
    public bool Local;
}
