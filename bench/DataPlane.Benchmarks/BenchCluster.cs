using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// Synthetic map generations at a given scale, built with <see cref="MapSetBuilder"/> exactly as the compiler does:
/// node-1 (192.168.0.2, pod CIDR 10.244.1.0/24, cluster CIDR 10.244.0.0/16), N ClusterIP services 10.96.0.1.. :80/TCP,
/// optionally a NodePort frontend 192.168.0.2:30000+i each (the first 2768 services: the NodePort range).
/// <para>
/// Backends come from a pool of 32768 pod addresses (10.244.128.0/17, port 8080) that services share, as pods can back
/// several services; service i takes <c>backends</c> consecutive pool entries from a seeded offset. The 16-bit rev-NAT id
/// (cilium's lb4 rev_nat_index is 16 bits too) caps service ports at 65535, so beyond 60000 services the service-port
/// ids repeat; the packet path never reads the id on lookup, only on the report, so lookup cost is unaffected.
/// </para>
/// </summary>
public static class BenchCluster
{
    public static readonly uint Node = Ip4.Parse("192.168.0.2");
    public static readonly uint FirstVip = Ip4.Parse("10.96.0.1");
    public static readonly uint BackendBase = Ip4.Parse("10.244.128.0");
    public const ushort ServicePort = 80, TargetPort = 8080, FirstNodePort = 30000;
    public const int NodePortCount = 2768;

    public static NodeInfo NodeInfo()
    {
        Cidr4 pod = BenchData.Cidr("10.244.1.0/24"), cluster = BenchData.Cidr("10.244.0.0/16");
        return new NodeInfo("node-1", Node, [Node, 0x7F000001], pod, [cluster]);
    }

    public static uint Vip(int service) => FirstVip + (uint)service;

    /// <summary><paramref name="services"/> ClusterIP services with <paramref name="backends"/> endpoints each.</summary>
    public static MapSet Build(int services, int backends, bool nodePorts = false, byte proto = IpProto.Tcp, int seed = 7)
    {
        var b = new MapSetBuilder(NodeInfo());
        var rng = new Random(seed);
        var ids = new uint[backends];
        for (int i = 0; i < services; i++)
        {
            ushort rev = b.AddServicePort($"default/svc-{i % 60_000}:http", Vip(i), ServicePort, proto);
            int first = rng.Next(32768);
            for (int j = 0; j < backends; j++)
                ids[j] = b.AddBackend(BackendBase + (uint)((first + j) & 0x7FFF), TargetPort, proto);
            b.AddFrontend(new Lb4Key(Vip(i), ServicePort, proto), rev, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, ids);
            if (nodePorts && i < NodePortCount)
                b.AddFrontend(new Lb4Key(Node, (ushort)(FirstNodePort + i), proto), rev,
                    ServiceFlags.NodePort | ServiceFlags.MasqueradeAll | ServiceFlags.LocalAddress, ids);
        }
        return b.Build(1);
    }

    /// <summary>True when <paramref name="address"/>:<paramref name="port"/> is one of the pool's backends.</summary>
    public static bool IsBackend(uint address, ushort port) => port == TargetPort && (address & 0xFFFF8000u) == BackendBase;

    /// <summary>Distinct pod clients inside the cluster CIDR, outside the backend pool (no masquerade, no hairpin).</summary>
    public static (uint Ip, ushort Port) PodClient(int i) => (Ip4.Parse("10.244.0.0") + 256 + (uint)(i % 30_000), (ushort)(1024 + i / 30_000));

    /// <summary>Distinct external clients in the benchmarking range 198.18.0.0/15 (RFC 2544), ports from a seeded draw.</summary>
    public static (uint Ip, ushort Port) ExternalClient(int i, Random rng) => (Ip4.Parse("198.18.0.0") + 1 + (uint)(i % 120_000), (ushort)rng.Next(1024, 65536));

    /// <summary>
    /// A pipeline over <paramref name="services"/> ClusterIP services (10 endpoints each) with <paramref name="flows"/>
    /// pod connections established: each client's SYN, then the backend's SYN-ACK (without it the client's ACKs would be
    /// INVALID, an ACK in SYN_SENT, and dropped).
    /// </summary>
    public static PacketPipeline Established(int flows, int services, byte[] reply)
    {
        var pipeline = new PacketPipeline(new MapSetHolder(Build(services, 10)), new PipelineOptions { CtCapacity = LiveTable.CapacityFor(flows) });
        Establish(pipeline, flows, services, reply);
        return pipeline;
    }

    /// <summary>
    /// Establishes <paramref name="flows"/> pod connections on <paramref name="pipeline"/>, flow i to service
    /// i mod <paramref name="services"/> (<see cref="Vip"/>) on :80, whatever generation its holder publishes.
    /// </summary>
    public static void Establish(PacketPipeline pipeline, int flows, int services, byte[] reply)
    {
        int before = pipeline.Conntrack.Count;
        Span<byte> syn = stackalloc byte[128];
        for (int i = 0; i < flows; i++)
        {
            var (ip, port) = PodClient(i);
            int n = BenchFrames.Write(syn, IpProto.Tcp, ip, port, Vip(i % services), 80, L4.TcpSyn);
            if (pipeline.Process(syn.Slice(0, n), BenchData.Now, reply, out PacketResult r) != Verdict.Forward || !r.NewFlow)
                throw new InvalidOperationException($"flow {i} not established: {r.Verdict} {r.Reason}");
            n = BenchFrames.Write(syn, IpProto.Tcp, r.OutDstIp, r.OutDstPort, r.OutSrcIp, r.OutSrcPort, (byte)(L4.TcpSyn | L4.TcpAck));
            if (pipeline.Process(syn.Slice(0, n), BenchData.Now, reply, out r) != Verdict.Forward)
                throw new InvalidOperationException($"flow {i}: SYN-ACK not forwarded: {r.Verdict} {r.Reason}");
        }
        if (pipeline.Conntrack.Count - before != flows) throw new InvalidOperationException("flows not established");
    }
}
