using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// Whether a SNAT port is kept must not depend on the worker count: every connection is steered by its client's port,
/// so the worker that sees it owns that port and keeps it when free, as one pipeline does. (Choices drawn from a
/// worker's generator — a backend among several, a random SNAT port after a clash, ICMP ids — still do: see the README.)
/// </summary>
public class WorkerCountTests
{
    /// <summary>
    /// The bundled cases in which no choice is drawn from a generator (one endpoint per service, every client port
    /// free): 003-nodeport-tcp is the one where 7 of 8 verdicts used to differ with 2 workers.
    /// </summary>
    [Theory]
    [InlineData("001-clusterip-tcp")]
    [InlineData("002-clusterip-udp")]
    [InlineData("003-nodeport-tcp")]
    [InlineData("008-hairpin")]
    [InlineData("009-icmp-from-backend")]
    [InlineData("010-fragmented-udp")]
    [InlineData("026-icmp-error-checksums")]
    [InlineData("028-snat-privileged-ports")]
    public void Bundled_cases_give_the_same_verdicts_and_bytes_with_1_to_4_workers(string id)
    {
        string dir = Path.Combine(Repo.Cases, id);
        byte[] expectedPcap = File.ReadAllBytes(Path.Combine(dir, "expected.pcap"));
        string[] expectedVerdicts = File.ReadAllLines(Path.Combine(dir, "expected.jsonl"));
        foreach (int n in new[] { 1, 2, 3, 4 })
        {
            string tmp = Directory.CreateTempSubdirectory("dp-wc-").FullName;
            string o = Path.Combine(tmp, "out.pcap"), v = Path.Combine(tmp, "out.jsonl");
            var r = Cli.CliTests.RunIn(dir, ["replay", "--cluster", Repo.Cluster, "--node", Case.Node, "-q", "--workers", n.ToString(), "input.pcap", "-o", o, "--verdicts", v]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(expectedVerdicts, File.ReadAllLines(v));
            Assert.True(expectedPcap.AsSpan().SequenceEqual(File.ReadAllBytes(o)), $"{id}: output bytes differ with {n} workers");
        }
    }

    /// <summary>One connection of a random capture: kind, client host, client port (distinct per capture).</summary>
    static readonly Gen<(int Kind, int Host)[]> Connections = Gen.Select(Gen.Int[0, 2], Gen.Int[1, 250]).Array[1, 24];

    [Fact]
    public void Random_captures_give_identical_verdicts_and_bytes_with_1_to_4_workers()
    {
        var holder = new MapSetHolder(TestWorld.Build(backends: 1));
        Gen.Select(Connections, Gen.UShort[1, 65535]).Sample(t =>
        {
            var (conns, basePort) = t;
            // The capture: each connection's first packet, then the backend's answer to what one pipeline emitted,
            // then a second client packet; distinct client ports, so every one is free and kept.
            var script = new List<(int Conn, bool Reply)>();
            for (int i = 0; i < conns.Length; i++) script.Add((i, false));
            for (int i = 0; i < conns.Length; i++) { script.Add((i, true)); script.Add((i, false)); }
            List<(Verdict, byte[])>? reference = null;
            foreach (int n in new[] { 1, 2, 3, 4 })
            {
                var options = new PipelineOptions { CtCapacity = 1 << 10, WorkerCount = n };
                var workers = Enumerable.Range(0, n).Select(i => new PacketPipeline(holder, options with { WorkerIndex = i, Seed = 1 + (ulong)i })).ToArray();
                var steering = new FlowSteering(n, options);
                var outs = new List<(Verdict, byte[])>();
                var translated = new Dictionary<int, PacketResult>();
                foreach (var (c, reply) in script)
                {
                    var (kind, host) = conns[c];
                    // Client ports masquerade keeps when free: the SNAT range 32768-65535, or the privileged class 1-511
                    // (a port of 1024-32767 is always replaced by a generator's draw). Distinct within a capture.
                    ushort port = basePort % 2 == 0 ? (ushort)(32768 + (basePort + c * 7919) % 32768) : (ushort)(1 + (basePort + c * 7919) % 511);
                    (string src, string dst, ushort dport) = kind switch
                    {
                        0 => ($"10.244.1.{host}", "10.96.0.10", (ushort)80),        // pod -> ClusterIP: DNAT only
                        1 => ($"203.0.113.{host}", "192.168.0.2", TestWorld.NodePort), // NodePort: DNAT + SNAT
                        _ => ($"172.16.0.{host}", "10.96.0.10", (ushort)80),        // off-cluster -> ClusterIP: SNAT
                        // (no REJECT here: its ICMP id comes from the worker's generator)
                    };
                    byte[] frame;
                    if (!reply) frame = Frames.TcpFrame(src, port, dst, dport, translated.ContainsKey(c) ? Frames.Tcp.Ack : Frames.Tcp.Syn, 1, 0);
                    else if (translated.TryGetValue(c, out PacketResult r))
                        frame = Frames.TcpFrame(Ip4.Format(r.OutDstIp), r.OutDstPort, Ip4.Format(r.OutSrcIp), r.OutSrcPort, Frames.Tcp.Syn | Frames.Tcp.Ack, 5, 2);
                    else continue;
                    byte[] buf = (byte[])frame.Clone(), rep = new byte[2048];
                    int w = steering.WorkerFor(buf, holder.Current);
                    Verdict v = workers[w].Process(buf, 1_000_000_000, rep, out PacketResult res);
                    if (!reply && v == Verdict.Forward) translated.TryAdd(c, res);
                    outs.Add((v, v == Verdict.Forward ? buf[..res.OutLength] : v == Verdict.Reject ? rep[..res.OutLength] : []));
                }
                if (reference is null) reference = outs;
                else
                {
                    Assert.Equal(reference.Count, outs.Count);
                    for (int i = 0; i < outs.Count; i++)
                    {
                        Assert.Equal(reference[i].Item1, outs[i].Item1);
                        Assert.True(reference[i].Item2.AsSpan().SequenceEqual(outs[i].Item2), $"{n} workers: frame {i} differs");
                    }
                }
            }
        }, iter: 200);
    }
}
