using System.Buffers.Binary;
using System.Collections.Concurrent;
using DataPlane.FixtureBuilder;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Stress;

/// <summary>
/// Endpoint churn under traffic: a writer applies EndpointSlice changes (endpoints added, removed, readiness flipped)
/// through the control plane as fast as it can while two workers, each its own pipeline over the shared map holder,
/// open TCP connections to the Service and keep sending on the ones already open. Afterwards, from what each packet
/// became: every new connection went to an endpoint that was ready in a generation published while its first packet
/// was processed (the old or the new set, never one from neither), no established connection changed backend, and
/// every packet got exactly one verdict and at most one output (nothing lost, nothing duplicated). Bounded by
/// iteration counts with fixed seeds; thread interleaving varies from run to run, the invariants must hold for all.
/// </summary>
public sealed class EndpointChurnStressTests : IDisposable
{
    const string Vip = "10.96.0.50";
    const int Universe = 16;      // endpoints 10.244.2.1 .. 10.244.2.16, pods on node-2
    const int Changes = 300;
    const int FlowsPerWorker = 2000;
    /// <summary>How far back (in flows) each new flow's worker also sends a packet of an older flow.</summary>
    static readonly int[] s_lookBacks = [1, 7, 50, 400];
    readonly TempDir _tmp = new("stress");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    const string Cluster = TestManifests.TwoNodesIptables + """
        apiVersion: v1
        kind: Service
        metadata: {name: churn, namespace: default}
        spec:
          clusterIP: 10.96.0.50
          selector: {app: churn}
          ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
        ---

        """;

    static string Slice(IEnumerable<(int Ep, bool Ready)> endpoints) =>
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: churn-1, namespace: default, labels: {kubernetes.io/service-name: churn}}
        addressType: IPv4
        ports: [{name: http, port: 8080, protocol: TCP}]
        endpoints:

        """ + string.Concat(endpoints.Select(e =>
            $"- {{addresses: [\"10.244.2.{e.Ep}\"], nodeName: node-2, conditions: {{ready: {(e.Ready ? "true" : "false")}, serving: {(e.Ready ? "true" : "false")}}}}}\n"));

    static uint Ep(int i) => 0x0AF40200u | (uint)i; // 10.244.2.i

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Endpoint_churn_never_misroutes_switches_loses_or_duplicates(int seed)
    {
        // The changes, decided up front from the seed: 1 to 8 endpoints, each ready or not, at least one ready.
        var rng = new Random(seed);
        var changes = new List<(HashSet<uint> Ready, string Path)>();
        for (int c = 0; c < Changes; c++)
        {
            var chosen = Enumerable.Range(1, Universe).OrderBy(_ => rng.Next()).Take(rng.Next(1, 9))
                .Select(e => (Ep: e, Ready: rng.Next(3) > 0)).ToList();
            if (!chosen.Any(e => e.Ready)) chosen[0] = (chosen[0].Ep, true);
            string path = Path.Combine(_tmp.Path, $"change-{c}.yaml");
            File.WriteAllText(path, Slice(chosen));
            changes.Add(([.. chosen.Where(e => e.Ready).Select(e => Ep(e.Ep))], path));
        }
        string initial = Path.Combine(_tmp.Path, "cluster.yaml");
        File.WriteAllText(initial, Cluster + Slice([(1, true), (2, true)]));
        var control = new ControlPlane(initial, "node-1");
        var ready = new ConcurrentDictionary<long, HashSet<uint>> { [control.Holder.Current.Generation] = [Ep(1), Ep(2)] };
        List<ClusterManifests> overlays = [.. changes.Select(c => ManifestLoader.Load(c.Path))];

        const int workers = 2;
        long applied = 0;
        var opened = new int[workers];
        var results = new List<(long G0, long G1, uint Backend, int Flow, int Worker, bool Syn)>[workers];
        var failures = new ConcurrentQueue<string>();
        using var start = new Barrier(workers + 1);
        var threads = new List<Thread>();
        for (int w = 0; w < workers; w++)
        {
            int wi = w;
            results[wi] = new(FlowsPerWorker * 4);
            threads.Add(new Thread(() =>
            {
                var pipeline = new PacketPipeline(control.Holder, new PipelineOptions { CtCapacity = 1 << 14, Seed = (ulong)(seed * 10 + wi) });
                var reply = new byte[2048];
                string client = $"10.244.1.{10 + wi}";
                start.SignalAndWait();
                for (int k = 0; k < FlowsPerWorker; k++)
                {
                    // Spread the connections over the churn (a loose lockstep, so neither side finishes before the
                    // other starts on a loaded machine): connection k opens once the writer is within two changes of
                    // k's share of the churn, and the writer waits for no worker to be more than a few connections
                    // behind. Inside that window both run flat out, and every change races the packets in flight.
                    long due = (long)k * Changes / FlowsPerWorker - 2;
                    var spin = new SpinWait();
                    while (Volatile.Read(ref applied) < due) spin.SpinOnce();
                    Volatile.Write(ref opened[wi], k);
                    Send(k, syn: true);
                    foreach (int back in s_lookBacks)
                        if (k - back >= 0) Send(k - back, syn: false);
                }

                void Send(int flow, bool syn)
                {
                    ushort sport = (ushort)(20000 + flow);
                    byte[] frame = syn
                        ? Frames.TcpFrame(client, sport, Vip, 80, Frames.Tcp.Syn, 1000, 0)
                        : Frames.TcpFrame(client, sport, Vip, 80, Frames.Tcp.Ack | Frames.Tcp.Psh, 1001, 5001, "x");
                    long now = (long)(flow + 1) * 1_000_000; // 1 ms a connection: far inside every conntrack timeout
                    long g0 = control.Holder.Current.Generation;
                    Verdict v = pipeline.Process(frame, now, reply, out int outLength);
                    long g1 = control.Holder.Current.Generation;
                    if (v != Verdict.Forward || outLength != frame.Length)
                    {
                        failures.Enqueue($"worker {wi} flow {flow} {(syn ? "SYN" : "data")}: {v} ({outLength} bytes out of {frame.Length})");
                        return;
                    }
                    uint dst = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(14 + 16));
                    ushort dport = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 20 + 2));
                    if (dport != 8080) failures.Enqueue($"worker {wi} flow {flow}: target port {dport}");
                    results[wi].Add((g0, g1, dst, flow, wi, syn));
                    if (!syn) return;
                    // The backend's SYN-ACK comes back through the same worker, reverse-translated to the VIP, and
                    // makes the connection established (later data is then in-window, as the kernel tracks it).
                    byte[] synAck = Frames.TcpFrame(Ip4.Format(dst), 8080, client, sport, Frames.Tcp.Syn | Frames.Tcp.Ack, 5000, 1001);
                    Verdict rv = pipeline.Process(synAck, now, reply, out int replyLength);
                    uint src = BinaryPrimitives.ReadUInt32BigEndian(synAck.AsSpan(14 + 12));
                    if (rv != Verdict.Forward || replyLength != synAck.Length || Ip4.Format(src) != Vip)
                        failures.Enqueue($"worker {wi} flow {flow} SYN-ACK from {Ip4.Format(dst)}: {rv}, source {Ip4.Format(src)}");
                }
            })
            { IsBackground = true, Name = $"stress worker {wi}" });
        }
        foreach (Thread t in threads) t.Start();
        start.SignalAndWait();
        foreach (var (change, overlay, c) in changes.Zip(overlays, Enumerable.Range(0, Changes)))
        {
            long behind = (long)c * FlowsPerWorker / Changes - 5;
            var spin = new SpinWait();
            while (Enumerable.Range(0, workers).Any(i => Volatile.Read(ref opened[i]) < behind)) spin.SpinOnce();
            MapSet published = control.Apply(overlay);
            ready[published.Generation] = change.Ready;
            Interlocked.Increment(ref applied);
        }
        foreach (Thread t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(5)), "a worker did not finish");

        Assert.True(failures.IsEmpty, string.Join('\n', failures.Take(20)));
        long lastGeneration = control.Holder.Current.Generation;
        Assert.Equal(1 + Changes, lastGeneration);
        int synsSeen = 0;
        for (int w = 0; w < workers; w++)
        {
            // Every packet: one verdict, one output (a forwarded copy of itself), recorded once.
            int expected = FlowsPerWorker + s_lookBacks.Sum(b => FlowsPerWorker - b);
            Assert.Equal(expected, results[w].Count);
            var backendOf = new Dictionary<int, uint>();
            foreach (var r in results[w])
            {
                if (r.Syn)
                {
                    synsSeen++;
                    bool allowed = false;
                    for (long g = r.G0; g <= r.G1 && !allowed; g++) allowed = ready[g].Contains(r.Backend);
                    Assert.True(allowed, $"worker {w} flow {r.Flow} went to {Ip4.Format(r.Backend)}, ready in none of generations {r.G0}..{r.G1}");
                    backendOf[r.Flow] = r.Backend;
                }
                else
                {
                    Assert.True(backendOf[r.Flow] == r.Backend,
                        $"worker {w} flow {r.Flow} switched from {Ip4.Format(backendOf[r.Flow])} to {Ip4.Format(r.Backend)}");
                }
            }
        }
        Assert.Equal(workers * FlowsPerWorker, synsSeen);
        // The churn really overlapped the traffic: connections were opened under many different generations.
        Assert.True(results.SelectMany(r => r).Where(r => r.Syn).Select(r => r.G0).Distinct().Count() > 10,
            $"connections were not spread over the churn: {string.Join(",", results.SelectMany(r => r).Where(r => r.Syn).Select(r => r.G0).Distinct().Take(20))}; generations {string.Join(",", ready.Keys.Order().Take(10))}");
    }
}
