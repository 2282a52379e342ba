using CsCheck;
using DataPlane.FixtureBuilder;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// Verdicts and bytes must not depend on the worker count: every draw is keyed by the packet it is for (backend, SNAT
/// port start, ICMP id), a replacement SNAT port stays in its client port's flow class, and flows are steered by class.
/// </summary>
public class WorkerCountTests
{
    /// <summary>
    /// Every bundled case, with its own options (003-nodeport-tcp is where 7 of 8 verdicts once differed with 2
    /// workers; 006, 011 and 025 balance over three endpoints; 004, 027 and 034 answer with ICMP ids).
    /// </summary>
    [Theory]
    [MemberData(nameof(Fixtures.CaseReplayTests.CaseIds), MemberType = typeof(Fixtures.CaseReplayTests))]
    public void Bundled_cases_give_the_same_verdicts_and_bytes_with_1_to_4_workers(string id)
    {
        string dir = Path.Combine(Repo.Cases, id);
        byte[] expectedPcap = File.ReadAllBytes(Path.Combine(dir, "expected.pcap"));
        string[] expectedVerdicts = File.ReadAllLines(Path.Combine(dir, "expected.jsonl"));
        string[] extra = File.Exists(Path.Combine(dir, "args")) ? File.ReadAllLines(Path.Combine(dir, "args")).Where(l => l.Length > 0).ToArray() : [];
        // The one documented exception: --ct-max is the node's total, split into a power-of-two share per worker, so
        // which new flow finds its worker's share full (013-ct-full) depends on the split.
        int[] counts = extra.Contains("--ct-max") ? [1] : [1, 2, 3, 4];
        foreach (int n in counts)
        {
            using var scratch = new TempDir("wc");
            string tmp = scratch.Path;
            string o = Path.Combine(tmp, "out.pcap"), v = Path.Combine(tmp, "out.jsonl");
            var r = Cli.CliTests.RunIn(dir, ["replay", "--cluster", Repo.Cluster, "--node", Case.Node, "-q", "--workers", n.ToString(), "input.pcap", "-o", o, "--verdicts", v, .. extra]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(expectedVerdicts, File.ReadAllLines(v));
            Assert.True(expectedPcap.AsSpan().SequenceEqual(File.ReadAllBytes(o)), $"{id}: output bytes differ with {n} workers");
        }
    }

    /// <summary>One connection of a random capture: kind, client host, client port (distinct per capture).</summary>
    // (kind, client host, client port): ports from the whole range, repeated across clients so masquerade clashes.
    static readonly Gen<(int Kind, int Host, ushort Port)[]> Connections =
        Gen.Select(Gen.Int[0, 3], Gen.Int[1, 250], Gen.OneOf(Gen.UShort[1, 65535], Gen.UShort[40000, 40003], Gen.UShort[300, 302])).Array[1, 32];

    static readonly int[] s_workerCounts = [1, 2, 3, 4];

    [Fact]
    public void Random_captures_give_identical_verdicts_and_bytes_with_1_to_4_workers()
    {
        var holder = new MapSetHolder(TestWorld.Build(backends: 3));
        Connections.Sample(conns =>
        {
            // The capture: each connection's first packet, then the backend's answer to what one pipeline emitted,
            // then a second client packet. Three endpoints (a draw per connection), client ports that clash after
            // masquerade (a SNAT port search), and a service without endpoints (REJECT with an ICMP id).
            var script = new List<(int Conn, bool Reply)>();
            for (int i = 0; i < conns.Length; i++) script.Add((i, false));
            for (int i = 0; i < conns.Length; i++) { script.Add((i, true)); script.Add((i, false)); }
            List<(Verdict, byte[])>? reference = null;
            foreach (int n in s_workerCounts)
            {
                var options = new PipelineOptions { CtCapacity = 1 << 10 };
                var workers = Enumerable.Range(0, n).Select(_ => new PacketPipeline(holder, options)).ToArray();
                var steering = new FlowSteering(n, options);
                var outs = new List<(Verdict, byte[])>();
                var translated = new Dictionary<int, PacketResult>();
                long now = 1_000_000_000;
                foreach (var (c, reply) in script)
                {
                    var (kind, host, port) = conns[c];
                    (string src, string dst, ushort dport) = kind switch
                    {
                        0 => ($"10.244.1.{host}", "10.96.0.10", (ushort)80),        // pod -> ClusterIP: DNAT only
                        1 => ($"203.0.113.{host}", "192.168.0.2", TestWorld.NodePort), // NodePort: DNAT + SNAT
                        2 => ($"172.16.0.{host}", "10.96.0.10", (ushort)80),        // off-cluster -> ClusterIP: SNAT
                        _ => ($"10.244.1.{host}", "10.96.0.30", (ushort)80),        // no endpoints: REJECT
                    };
                    byte[] frame;
                    if (!reply) frame = Frames.TcpFrame(src, port, dst, dport, translated.ContainsKey(c) ? Frames.Tcp.Ack : Frames.Tcp.Syn, 1, 0);
                    else if (translated.TryGetValue(c, out PacketResult r))
                        frame = Frames.TcpFrame(Ip4.Format(r.OutDstIp), r.OutDstPort, Ip4.Format(r.OutSrcIp), r.OutSrcPort, Frames.Tcp.Syn | Frames.Tcp.Ack, 5, 2);
                    else continue;
                    byte[] buf = (byte[])frame.Clone(), rep = new byte[2048];
                    int w = steering.WorkerFor(buf, holder.Current);
                    Verdict v = workers[w].Process(buf, now += 1_000_000, rep, out PacketResult res);
                    if (!reply && v == Verdict.Forward) translated.TryAdd(c, res);
                    outs.Add((v, v == Verdict.Forward ? buf[..res.OutLength] : v == Verdict.Reject ? rep[..res.OutLength] : []));
                }
                foreach (var p in workers) p.Dispose();
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
