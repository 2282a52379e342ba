using System.Buffers.Binary;
using System.Text;
using BenchmarkDotNet.Attributes;
using DataPlane.Dns;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Benchmarks;

/// <summary>
/// Cluster DNS answered on the packet path: a UDP query frame through the whole pipeline (parse, DNS stage, zone
/// lookup, answer with compression, UDP/IPv4/Ethernet headers and checksums) for A of a ClusterIP service, A of a
/// headless service with 10 endpoints, SRV of a named port and an NXDOMAIN, against a zone of 1 000 services. Per
/// query: invert the mean for queries/s on one core; CoreDNS publishes about 17 k queries/s per vCPU
/// (coredns/deployment kubernetes/Scaling_CoreDNS.md). Baseline: the naive server a first version would be, in the
/// same class — the question read into a lower-cased string, a Dictionary&lt;string, records&gt; lookup, the answer
/// assembled in a List&lt;byte&gt; (owner names as pointers to the question, nothing else compressed) and copied into
/// a frame with freshly computed checksums.
/// </summary>
[MemoryDiagnoser]
public class DnsBenchmarks : IDisposable
{
    public enum Query { AClusterIp, AHeadless10, Srv, NxDomain }

    [Params(Query.AClusterIp, Query.AHeadless10, Query.Srv, Query.NxDomain)]
    public Query Kind { get; set; }

    PacketPipeline _pipeline = null!;
    FramePool _frames = null!;
    readonly byte[] _reply = new byte[1536];
    NaiveDnsServer _naive = null!;
    int _expectAnswers;
    const uint DnsIp = 0x0A60000A;
    const int Services = 1000;

    /// <summary>Releases the tables' native memory once BenchmarkDotNet is done with this instance.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _pipeline?.Dispose();
        GC.SuppressFinalize(this);
    }

    [GlobalSetup]
    public void Setup()
    {
        var services = new List<Service>();
        var slices = new List<EndpointSlice>();
        for (int i = 0; i < Services; i++)
            services.Add(new Service
            {
                Name = $"svc-{i}", Namespace = $"ns-{i % 10}", SourceFile = "bench", ClusterIPMode = ClusterIPMode.Assigned,
                ClusterIP = 0x0A610000u + (uint)i, Ports = [new ServicePort { Name = "http", Port = 80 }],
            });
        services.Add(new Service { Name = "db", Namespace = "ns-0", SourceFile = "bench", ClusterIPMode = ClusterIPMode.Headless, Ports = [new ServicePort { Name = "pg", Port = 5432 }] });
        slices.Add(new EndpointSlice
        {
            Name = "db-1", Namespace = "ns-0", SourceFile = "bench", ServiceName = "db", AddressType = EndpointAddressType.IPv4,
            Ports = [new EndpointSlicePort { Name = "pg", Port = 5432, Protocol = PortProtocol.TCP }],
            Endpoints = [.. Enumerable.Range(1, 10).Select(e => new SliceEndpoint { Addresses = [0x0AF40300u + (uint)e], Ready = true })],
        });
        var m = new ClusterManifests { Services = services, EndpointSlices = slices };
        DnsZone zone = DnsZoneCompiler.Compile(m, new DnsOptions { ClusterDns = DnsIp });
        MapSet maps = new MapSetBuilder(BenchCluster.NodeInfo()) { Dns = zone }.Build(1);
        _pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 1 << 10 });
        _naive = new NaiveDnsServer(m, DnsIp);

        _frames = new FramePool(BenchData.Batch, 160);
        for (int i = 0; i < BenchData.Batch; i++)
        {
            (string name, ushort type, _expectAnswers) = Kind switch
            {
                Query.AClusterIp => ($"svc-{i % Services}.ns-{i % Services % 10}.svc.cluster.local", DnsType.A, 1),
                Query.AHeadless10 => ("db.ns-0.svc.cluster.local", DnsType.A, 10),
                Query.Srv => ($"_http._tcp.svc-{i % Services}.ns-{i % Services % 10}.svc.cluster.local", DnsType.SRV, 1),
                _ => ($"missing-{i}.ns-{i % 10}.svc.cluster.local", DnsType.A, 0),
            };
            var (ip, port) = BenchCluster.PodClient(i);
            int len = DnsFrames.Udp(_frames.Slot(i), ip, port, DnsIp, DnsMessage.BuildQuery(name, type, (ushort)i));
            _frames.SetLength(i, len);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.Batch)]
    public int NaiveDictionary()
    {
        int ok = 0;
        for (int i = 0; i < BenchData.Batch; i++)
        {
            byte[] f = _naive.Answer(_frames[i]);
            if (BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(42 + 6)) == _expectAnswers) ok++;
        }
        return Check(ok);
    }

    [Benchmark(OperationsPerInvoke = BenchData.Batch)]
    public int DataPlanePipeline()
    {
        int ok = 0;
        for (int i = 0; i < BenchData.Batch; i++)
        {
            if (_pipeline.Process(_frames[i], BenchData.Now, _reply, out int _) == Verdict.Answer
                && BinaryPrimitives.ReadUInt16BigEndian(_reply.AsSpan(42 + 6)) == _expectAnswers) ok++;
        }
        return Check(ok);
    }

    static int Check(int ok) => ok == BenchData.Batch ? ok : throw new InvalidOperationException($"only {ok} of {BenchData.Batch} queries answered as expected");

    /// <summary>The straightforward server: strings, a Dictionary, a List&lt;byte&gt;.</summary>
    sealed class NaiveDnsServer
    {
        readonly Dictionary<string, List<(ushort Type, byte[] Rdata)>> _records = [];
        readonly uint _dnsIp;

        public NaiveDnsServer(ClusterManifests m, uint dnsIp)
        {
            _dnsIp = dnsIp;
            foreach (Service s in m.Services)
            {
                string name = $"{s.Name}.{s.Namespace}.svc.cluster.local";
                if (s.ClusterIP is uint ip)
                {
                    Add(name, DnsType.A, BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(ip)));
                    foreach (ServicePort p in s.Ports)
                        Add($"_{p.Name}._tcp.{name}", DnsType.SRV, [0, 0, 0, 100, (byte)(p.Port >> 8), (byte)p.Port, .. DnsName.ToWire(name)]);
                }
                else
                    foreach (EndpointSlice sl in m.EndpointSlices.Where(x => x.ServiceName == s.Name))
                        foreach (SliceEndpoint e in sl.Endpoints)
                            Add(name, DnsType.A, BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(e.Addresses[0])));
            }
        }

        void Add(string name, ushort type, byte[] rdata)
        {
            if (!_records.TryGetValue(name, out var list)) _records[name] = list = [];
            list.Add((type, rdata));
        }

        public byte[] Answer(ReadOnlySpan<byte> frame)
        {
            ReadOnlySpan<byte> q = frame[42..];
            var sb = new StringBuilder();
            int pos = 12;
            while (q[pos] != 0)
            {
                if (sb.Length > 0) sb.Append('.');
                sb.Append(Encoding.ASCII.GetString(q.Slice(pos + 1, q[pos])));
                pos += 1 + q[pos];
            }
            string name = sb.ToString().ToLowerInvariant();
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(q[(pos + 1)..]);
            int qEnd = pos + 5;
            var answers = _records.TryGetValue(name, out var list) ? list.Where(r => r.Type == type).ToList() : [];
            bool exists = list is not null;
            var resp = new List<byte>(512);
            resp.AddRange(q[..2].ToArray());
            resp.AddRange([0x85, (byte)(exists ? 0 : 3), 0, 1, 0, (byte)answers.Count, 0, 0, 0, 0]);
            resp.AddRange(q[12..qEnd].ToArray());
            foreach (var (t, rdata) in answers)
                resp.AddRange([0xC0, 12, (byte)(t >> 8), (byte)t, 0, 1, 0, 0, 0, 5, (byte)(rdata.Length >> 8), (byte)rdata.Length, .. rdata]);
            byte[] msg = [.. resp];
            uint client = BinaryPrimitives.ReadUInt32BigEndian(frame[26..]);
            ushort sport = BinaryPrimitives.ReadUInt16BigEndian(frame[34..]);
            var outFrame = new byte[42 + msg.Length];
            DnsFrames.Udp(outFrame, _dnsIp, 53, client, msg, sport);
            return outFrame;
        }
    }
}
