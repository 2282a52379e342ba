namespace DataPlane.Maps;

/// <summary>An IPv4 address (host order) as a map key.</summary>
public readonly record struct Ip4Key(uint Address) : IMapKey<Ip4Key>
{
    public uint Hash(ulong seed) => HashMix.Mix(Address, 0, seed);
}
