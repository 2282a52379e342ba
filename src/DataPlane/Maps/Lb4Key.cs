using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>
/// Frontend key of the service map (cilium <c>struct lb4_key</c>): (address, port, L4 protocol, scope). Cilium also keys
/// backend slots by <c>backend_slot</c>; here a generation is immutable, so the slots of a frontend are a contiguous range
/// of <see cref="MapSet.BackendSlots"/> and the key needs no slot field (slot 0 = this master entry).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Lb4Key : IMapKey<Lb4Key>
{
    /// <summary>Frontend IPv4 address, host order.</summary>
    public readonly uint Address;
    public readonly ushort Port;
    public readonly byte Proto;
    /// <summary>0 = external scope, 1 = internal (cilium LB_LOOKUP_SCOPE_EXT/INT); used by two-scope services.</summary>
    public readonly byte Scope;

    public Lb4Key(uint address, ushort port, byte proto, byte scope = 0)
    {
        Address = address;
        Port = port;
        Proto = proto;
        Scope = scope;
    }

    ulong Packed => ((ulong)Address << 32) | ((ulong)Port << 16) | ((ulong)Proto << 8) | Scope;

    public bool Equals(Lb4Key other) => Packed == other.Packed;
    public override bool Equals(object? obj) => obj is Lb4Key k && Equals(k);
    public static bool operator ==(Lb4Key left, Lb4Key right) => left.Equals(right);
    public static bool operator !=(Lb4Key left, Lb4Key right) => !left.Equals(right);
    public override int GetHashCode() => Packed.GetHashCode();
    public uint Hash(ulong seed) => HashMix.Mix(Packed, 0, seed);
}
