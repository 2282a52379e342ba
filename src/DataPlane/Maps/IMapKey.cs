namespace DataPlane.Maps;

/// <summary>A fixed-size key of an open-addressed map: equality plus a well-mixed 32-bit hash.</summary>
public interface IMapKey<TKey> : IEquatable<TKey> where TKey : unmanaged
{
    uint Hash(ulong seed);
}
