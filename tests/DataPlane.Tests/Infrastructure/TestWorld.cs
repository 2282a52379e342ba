using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Tests.Infrastructure;

/// <summary>
/// Maps seeded by hand for pipeline tests (cilium's SETUP step): node 192.168.0.2, pods 10.244.1.0/24, cluster CIDR
/// 10.244.0.0/16; a ClusterIP 10.96.0.10:80 -> n backends :8080, with NodePort 30080; an empty service 10.96.0.30:80.
/// </summary>
public static class TestWorld
{
    public static readonly uint Node = Ip4.Parse("192.168.0.2");
    public static readonly uint Vip = Ip4.Parse("10.96.0.10");
    public static readonly uint EmptyVip = Ip4.Parse("10.96.0.30");
    public const ushort NodePort = 30080;

    public static uint Backend(int i) => Ip4.Parse("10.244.2.0") + (uint)(10 + i);

    public static MapSet Build(int backends = 3)
    {
        Assert.True(Cidr4.TryParse("10.244.1.0/24", out var pod));
        Assert.True(Cidr4.TryParse("10.244.0.0/16", out var cluster));
        var node = new NodeInfo("node-1", Node, [Node, 0x7F000001], pod, [cluster]);
        var b = new MapSetBuilder(node);
        ushort web = b.AddServicePort("default/web:http", Vip, 80, IpProto.Tcp);
        ushort webUdp = b.AddServicePort("default/web:udp", Vip, 80, IpProto.Udp);
        var ids = Enumerable.Range(0, backends).Select(i => b.AddBackend(Backend(i), 8080, IpProto.Tcp)).ToArray();
        var udpIds = Enumerable.Range(0, backends).Select(i => b.AddBackend(Backend(i), 8080, IpProto.Udp)).ToArray();
        b.AddFrontend(new Lb4Key(Vip, 80, IpProto.Tcp), web, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, ids);
        b.AddFrontend(new Lb4Key(Vip, 80, IpProto.Udp), webUdp, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, udpIds);
        b.AddFrontend(new Lb4Key(Node, NodePort, IpProto.Tcp), web, ServiceFlags.NodePort | ServiceFlags.MasqueradeAll | ServiceFlags.LocalAddress, ids);
        b.AddFrontend(new Lb4Key(Node, NodePort, IpProto.Udp), webUdp, ServiceFlags.NodePort | ServiceFlags.MasqueradeAll | ServiceFlags.LocalAddress, udpIds);
        ushort empty = b.AddServicePort("default/empty:http", EmptyVip, 80, IpProto.Tcp);
        b.AddFrontend(new Lb4Key(EmptyVip, 80, IpProto.Tcp), empty, ServiceFlags.ClusterIp | ServiceFlags.MasqueradeOffCluster, []);
        return b.Build(1);
    }

    public static PacketPipeline NewPipeline(int backends = 3, PipelineOptions? o = null) =>
        new(new MapSetHolder(Build(backends)), o ?? new PipelineOptions { CtCapacity = 1 << 12 });

    public static byte[] Syn(string src, ushort sport, string dst, ushort dport) =>
        Frames.TcpFrame(src, sport, dst, dport, Frames.Tcp.Syn, 1, 0);

    /// <summary>Runs a copy of <paramref name="frame"/>; returns the verdict, the result and the output bytes.</summary>
    public static (Verdict V, PacketResult R, byte[] Out) Run(PacketPipeline p, byte[] frame, long nowNs = 1_000_000_000)
    {
        byte[] buf = (byte[])frame.Clone();
        byte[] reply = new byte[2048];
        Verdict v = p.Process(buf, nowNs, reply, out PacketResult r);
        byte[] o = v switch
        {
            Verdict.Forward => buf[..r.OutLength],
            Verdict.Reject => reply[..r.OutLength],
            _ => [],
        };
        return (v, r, o);
    }
}
