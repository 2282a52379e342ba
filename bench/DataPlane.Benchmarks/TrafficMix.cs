using DataPlane.Maps;
using DataPlane.Packets;

namespace DataPlane.Benchmarks;

/// <summary>
/// A realistic, seeded traffic mix against the bundled cluster (pcaps/cluster, node-1), used by the mixed-traffic
/// benchmark and by bench/replay-throughput.sh (written out as a pcap). 256 connections are in flight at once,
/// interleaved packet by packet; when one ends, a new one starts:
/// 45% TCP pod -> web ClusterIP (10.96.0.10:80), 15% TCP external client -> web NodePort (192.168.0.2:30080),
/// 5% TCP pod -> statsd admin (10.96.0.120:8126): handshake, 1-6 request/response rounds (100-1400 B), FIN both ways;
/// 20% UDP pod -> DNS (10.96.0.53:53): query + answer; 8% UDP pod -> statsd (8125): 1-4 datagrams one way;
/// 2% UDP external -> echo NodePort (30007): request + echo; 5% TCP pod -> an outside address (not a service: pass).
/// <para>
/// Replies are built from what the data plane will do, so they hit conntrack: only single-endpoint services are used
/// and external clients use distinct source ports in the SNAT range (kept, not randomised), so the translation is the
/// same in any run whatever the seed. Client tuples are distinct across the whole capture.
/// </para>
/// </summary>
public sealed class TrafficMix
{
    enum Kind { WebPod, WebNodePort, StatsdTcp, Dns, StatsdUdp, EchoNodePort, Outside }

    sealed class Flow
    {
        public Kind Kind;
        public byte Proto;
        public uint Client, Server;
        public ushort ClientPort, ServerPort;
        public uint Backend;       // where replies come from
        public ushort BackendPort;
        public uint ReplyTo;       // the translated client address replies are sent to
        public int Step, Steps;
    }

    readonly Random _rng;
    readonly List<Flow> _active = [];
    readonly uint _node;
    readonly (uint Ip, ushort Port) _web, _dns, _statsdUdp, _statsdTcp, _echo;
    int _podFlows, _externalFlows;
    public long NowNs { get; private set; } = 1_000_000_000;

    public TrafficMix(MapSet maps, int seed = 1)
    {
        _rng = new Random(seed);
        _node = maps.Node.PrimaryAddress;
        _web = Backend(maps, "10.96.0.10", 80, IpProto.Tcp);
        _dns = Backend(maps, "10.96.0.53", 53, IpProto.Udp);
        _statsdUdp = Backend(maps, "10.96.0.120", 8125, IpProto.Udp);
        _statsdTcp = Backend(maps, "10.96.0.120", 8126, IpProto.Tcp);
        _echo = Backend(maps, "10.96.0.90", 7, IpProto.Udp);
        for (int i = 0; i < 256; i++) _active.Add(NewFlow());
    }

    static (uint, ushort) Backend(MapSet maps, string vip, ushort port, byte proto)
    {
        Lb4Service s = maps.Services.Lookup(new Lb4Key(Ip4.Parse(vip), port, proto));
        if (s.Count != 1) throw new InvalidOperationException($"pcaps/cluster changed: {vip}:{port} should have exactly one endpoint");
        Lb4Backend b = maps.Backends[maps.BackendSlots[s.SlotOffset]];
        return (b.Address, b.Port);
    }

    Flow NewFlow()
    {
        int p = _rng.Next(100);
        Kind k = p < 45 ? Kind.WebPod : p < 60 ? Kind.WebNodePort : p < 65 ? Kind.StatsdTcp : p < 85 ? Kind.Dns
            : p < 93 ? Kind.StatsdUdp : p < 95 ? Kind.EchoNodePort : Kind.Outside;
        var f = new Flow { Kind = k };
        bool external = k is Kind.WebNodePort or Kind.EchoNodePort;
        if (external)
        {
            int g = _externalFlows++;
            f.Client = Ip4.Parse("198.18.0.0") + 1 + (uint)(g % 50_000);
            f.ClientPort = (ushort)(32768 + g % 32768); // in the SNAT range and distinct: kept by masquerade
            f.ReplyTo = _node;
        }
        else
        {
            int g = _podFlows++;
            // Pods of node-1 (10.244.1.50-249) and of an unlisted node (10.244.3.x): never a backend, so never hairpin.
            f.Client = (g % 456) < 200 ? Ip4.Parse("10.244.1.50") + (uint)(g % 456) : Ip4.Parse("10.244.3.0") + (uint)(g % 456 - 200);
            f.ClientPort = (ushort)(10_000 + (g / 456) % 50_000);
            f.ReplyTo = f.Client;
        }
        (f.Proto, f.Server, f.ServerPort, (f.Backend, f.BackendPort), f.Steps) = k switch
        {
            Kind.WebPod => (IpProto.Tcp, Ip4.Parse("10.96.0.10"), (ushort)80, _web, 6 + 2 * _rng.Next(1, 7)),
            Kind.WebNodePort => (IpProto.Tcp, _node, (ushort)30080, _web, 6 + 2 * _rng.Next(1, 7)),
            Kind.StatsdTcp => (IpProto.Tcp, Ip4.Parse("10.96.0.120"), (ushort)8126, _statsdTcp, 6 + 2 * _rng.Next(1, 7)),
            Kind.Dns => (IpProto.Udp, Ip4.Parse("10.96.0.53"), (ushort)53, _dns, 2),
            Kind.StatsdUdp => (IpProto.Udp, Ip4.Parse("10.96.0.120"), (ushort)8125, _statsdUdp, _rng.Next(1, 5)),
            Kind.EchoNodePort => (IpProto.Udp, _node, (ushort)30007, _echo, 2),
            _ => (IpProto.Tcp, Ip4.Parse("93.184.216.34"), (ushort)443, (0u, (ushort)0), _rng.Next(3, 7)),
        };
        return f;
    }

    /// <summary>Writes the next frame into <paramref name="frame"/> (1514 bytes at least) and returns its length.</summary>
    public int Next(Span<byte> frame)
    {
        NowNs += 2_000; // 2 us apart: 500 k frames/s of capture time
        int a = _rng.Next(_active.Count);
        Flow f = _active[a];
        int s = f.Step++;
        if (f.Step >= f.Steps) _active[a] = NewFlow();
        bool fromClient, tcp = f.Proto == IpProto.Tcp;
        byte flags = L4.TcpAck;
        int payload;
        if (f.Kind == Kind.Outside || f.Kind == Kind.StatsdUdp) { fromClient = true; payload = tcp ? (s == 0 ? 0 : 200) : 60 + _rng.Next(200); if (tcp && s == 0) flags = L4.TcpSyn; }
        else if (!tcp) { fromClient = s == 0; payload = fromClient ? 40 + _rng.Next(40) : 100 + _rng.Next(400); }
        else
        {
            // SYN, SYN-ACK, ACK, rounds of request/response, FIN, FIN-ACK, ACK.
            int last = f.Steps - 1;
            (fromClient, flags, payload) = s switch
            {
                0 => (true, L4.TcpSyn, 0),
                1 => (false, (byte)(L4.TcpSyn | L4.TcpAck), 0),
                2 => (true, L4.TcpAck, 0),
                _ when s == last - 2 => (true, (byte)(L4.TcpFin | L4.TcpAck), 0),
                _ when s == last - 1 => (false, (byte)(L4.TcpFin | L4.TcpAck), 0),
                _ when s == last => (true, L4.TcpAck, 0),
                _ => ((s & 1) == 1, (byte)(L4.TcpAck | L4.TcpPsh), (s & 1) == 1 ? 100 + _rng.Next(500) : 200 + _rng.Next(1200)),
            };
        }
        return fromClient
            ? BenchFrames.Write(frame, f.Proto, f.Client, f.ClientPort, f.Server, f.ServerPort, flags, payload, (uint)s)
            : BenchFrames.Write(frame, f.Proto, f.Backend, f.BackendPort, f.ReplyTo, f.ClientPort, flags, payload, (uint)s);
    }

    /// <summary>Writes <paramref name="frames"/> frames as a classic pcap (microsecond timestamps, Ethernet).</summary>
    public static void WritePcap(string path, MapSet maps, int frames)
    {
        var mix = new TrafficMix(maps);
        using var file = new BufferedStream(File.Create(path), 1 << 20);
        Span<byte> header = stackalloc byte[24];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, 0xa1b2c3d4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(4), 2);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(6), 4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(16), 65535);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(20), 1);
        file.Write(header);
        byte[] frame = new byte[2048];
        Span<byte> rec = stackalloc byte[16];
        for (int i = 0; i < frames; i++)
        {
            int n = mix.Next(frame);
            long us = mix.NowNs / 1000;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(rec, (uint)(us / 1_000_000));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(rec.Slice(4), (uint)(us % 1_000_000));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(rec.Slice(8), (uint)n);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(rec.Slice(12), (uint)n);
            file.Write(rec);
            file.Write(frame, 0, n);
        }
    }

    /// <summary>The repository root (where pcaps/cluster is), found upwards from the running assembly or the working directory.</summary>
    public static string RepoRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (Directory.Exists(Path.Combine(d.FullName, "pcaps", "cluster"))) return d.FullName;
        throw new InvalidOperationException("pcaps/cluster not found above " + AppContext.BaseDirectory);
    }
}
