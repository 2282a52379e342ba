using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>The master (slot 0) value of a frontend: cilium <c>struct lb4_service</c>, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Lb4Service
{
    /// <summary>Index of slot 1 in <see cref="MapSet.BackendSlots"/>; slots 1..Count follow it.</summary>
    public uint SlotOffset;
    /// <summary>Active backend slots a new connection may choose from. 0 = no usable endpoint.</summary>
    public ushort Count;
    /// <summary>Service-port id (cilium rev_nat_index); 0 is invalid.</summary>
    public ushort RevNatIndex;
    public ServiceFlags Flags;
    /// <summary>With <see cref="ServiceFlags.Maglev"/>: which table of <see cref="MapSet.MaglevTables"/> (frontends with the same backend list share one).</summary>
    public ushort MaglevTable;
    /// <summary>sessionAffinity ClientIP timeout in seconds (0 = no affinity).</summary>
    public uint AffinityTimeoutSeconds;
}
