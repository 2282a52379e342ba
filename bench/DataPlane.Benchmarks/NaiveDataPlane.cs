using System.Net;
using DataPlane.Maps;
using DataPlane.Packets;
using PacketDotNet;

namespace DataPlane.Benchmarks;

/// <summary>
/// The baseline for the end-to-end benchmarks: the "previous algorithm", the simplest data plane one would write first.
/// PacketDotNet parses and rewrites each packet (an object per layer, IPAddress objects, full checksum recomputes,
/// serialised to a new array); services and connections live in BCL Dictionaries; a connection is a class instance
/// indexed under both of its tuples; SNAT keeps the client port when free, else random then linear probing (same policy as
/// the pipeline). It does the same translation for the traffic the benchmarks send, and nothing more.
/// </summary>
public sealed class NaiveDataPlane
{
    sealed class Service
    {
        public required (uint Ip, ushort Port)[] Backends;
        public bool Masquerade;
    }

    sealed class Connection
    {
        public CtTuple4 Original, Reply;
    }

    readonly Dictionary<(uint, ushort, byte), Service> _services = [];
    readonly Dictionary<CtTuple4, Connection> _flows = [];
    readonly Random _rng = new(1);
    readonly uint _node;

    /// <summary>Loads the frontends of a compiled generation.</summary>
    public NaiveDataPlane(MapSet maps)
    {
        _node = maps.Node.PrimaryAddress;
        maps.Services.ForEach((k, v) =>
        {
            if (k.Scope != 0) return;
            var backends = new (uint, ushort)[v.Count];
            for (int i = 0; i < v.Count; i++)
            {
                Lb4Backend b = maps.Backends[maps.BackendSlots[v.SlotOffset + i]];
                backends[i] = (b.Address, b.Port);
            }
            bool masq = (v.Flags & ServiceFlags.MasqueradeAll) != 0;
            _services[(k.Address, k.Port, k.Proto)] = new Service { Backends = backends, Masquerade = masq };
        });
    }

    public int Connections => _flows.Count / 2;

    /// <summary>Forgets every connection (the new-flow benchmarks recycle their tuples per lap).</summary>
    public void Clear() => _flows.Clear();

    /// <summary>Returns the translated frame, or null when the packet is not for a service (pass).</summary>
    public byte[]? Process(byte[] frame)
    {
        var eth = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frame);
        if (eth.PayloadPacket is not IPv4Packet ip || ip.PayloadPacket is not TransportPacket l4) return null;
        byte proto = (byte)ip.Protocol;
        uint src = ToUint(ip.SourceAddress), dst = ToUint(ip.DestinationAddress);
        var tuple = new CtTuple4(src, l4.SourcePort, dst, l4.DestinationPort, proto);
        CtTuple4 other;
        if (_flows.TryGetValue(tuple, out Connection? c))
        {
            other = c.Original.Equals(tuple) ? c.Reply : c.Original;
        }
        else
        {
            if (!_services.TryGetValue((dst, l4.DestinationPort, proto), out Service? svc) || svc.Backends.Length == 0) return null;
            var (bip, bport) = svc.Backends[_rng.Next(svc.Backends.Length)];
            uint natIp = svc.Masquerade ? _node : src;
            ushort natPort = l4.SourcePort;
            var reply = new CtTuple4(bip, bport, natIp, natPort, proto);
            if (svc.Masquerade && (natPort < 32768 || _flows.ContainsKey(reply)))
            {
                int p = _rng.Next(32768);
                for (int tries = 0; ; tries++, p = (p + 1) & 32767)
                {
                    if (tries == 128) return null; // exhausted
                    reply = new CtTuple4(bip, bport, natIp, (ushort)(32768 + p), proto);
                    if (!_flows.ContainsKey(reply)) break;
                }
            }
            c = new Connection { Original = tuple, Reply = reply };
            _flows[tuple] = c;
            _flows[reply] = c;
            other = reply;
        }
        // Leave looking like the other tuple reversed.
        ip.SourceAddress = ToAddress(other.DstIp);
        ip.DestinationAddress = ToAddress(other.SrcIp);
        l4.SourcePort = other.DstPort;
        l4.DestinationPort = other.SrcPort;
        ip.TimeToLive--;
        if (l4 is TcpPacket tcp) tcp.UpdateTcpChecksum();
        else if (l4 is UdpPacket udp) udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return eth.Bytes;
    }

    static uint ToUint(IPAddress a)
    {
        Span<byte> b = stackalloc byte[4];
        a.TryWriteBytes(b, out _);
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    static IPAddress ToAddress(uint a) => new([(byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a]);
}
