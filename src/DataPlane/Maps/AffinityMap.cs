using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DataPlane.Maps;

/// <summary>Session-affinity key: client IPv4 (host order) and the service port's rev-NAT id (cilium lb4_affinity_key).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct AffinityKey(uint Client, ushort RevNatIndex) : IMapKey<AffinityKey>
{
    public uint Hash(ulong seed) => HashMix.Mix(((ulong)Client << 16) | RevNatIndex, 0, seed);
}

/// <summary>The backend a client was last sent to, by address (backend ids are per generation), and when.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AffinityEntry
{
    public uint BackendAddress;
    public ushort BackendPort;
    public long LastUsedNs;
}

/// <summary>
/// sessionAffinity ClientIP state (cilium cilium_lb4_affinity; kube-proxy's per-endpoint "recent" lists): same client
/// IP, same backend, while the last new connection is less than timeoutSeconds old. Like conntrack it belongs to the
/// data plane and survives map generations; an entry whose backend is no longer a slot of the frontend is ignored
/// (cilium's affinity_match check).
/// <para>Concurrency: owned by one pipeline worker, which is its only reader and writer.</para>
/// <para>Full: a new client is simply not remembered (cilium's map is an LRU that would evict); its connections are
/// still balanced, only not pinned.</para>
/// </summary>
public sealed class AffinityMap(int capacity)
{
    readonly FixedHashMap<AffinityKey, AffinityEntry> _map = new(capacity);

    public int Count => _map.Count;

    /// <summary>The remembered backend if it was used within the window [last, last + timeout).</summary>
    public bool TryGet(uint client, ushort revNat, long nowNs, uint timeoutSeconds, out AffinityEntry entry)
    {
        ref AffinityEntry e = ref _map.Lookup(new AffinityKey(client, revNat));
        if (Unsafe.IsNullRef(ref e) || nowNs - e.LastUsedNs >= timeoutSeconds * 1_000_000_000L)
        {
            entry = default;
            return false;
        }
        entry = e;
        return true;
    }

    public void Record(uint client, ushort revNat, uint backendAddress, ushort backendPort, long nowNs)
    {
        var key = new AffinityKey(client, revNat);
        ref AffinityEntry e = ref _map.Lookup(key);
        if (Unsafe.IsNullRef(ref e))
        {
            _map.TryAdd(key, new AffinityEntry { BackendAddress = backendAddress, BackendPort = backendPort, LastUsedNs = nowNs });
            return;
        }
        e.BackendAddress = backendAddress;
        e.BackendPort = backendPort;
        e.LastUsedNs = nowNs;
    }
}
