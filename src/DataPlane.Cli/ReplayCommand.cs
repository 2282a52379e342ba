using System.CommandLine;
using DataPlane.IO.Listings;
using DataPlane.IO;
using DataPlane.IO.Replay;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes.Explain;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary><c>dataplane replay --cluster &lt;file|dir&gt; --node &lt;name&gt; in.pcap -o out.pcap [--verdicts v.jsonl] [--seed N]</c></summary>
public static class ReplayCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var input = new Argument<string>("input") { Description = "Input capture (pcap or pcapng: Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback)" };
        var output = new Option<string?>("--output", "-o") { Description = "Output capture: forwarded frames and generated replies" };
        var verdicts = new Option<string?>("--verdicts") { Description = "One JSON verdict line per input frame" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the summary, not each flow" };
        var dumpCt = new Option<bool>("--dump-ct") { Description = "After the replay, list the conntrack table (conntrack -L style)" };
        var dumpNat = new Option<bool>("--dump-nat") { Description = "After the replay, list the SNAT bindings (cilium bpf nat list style)" };
        var applyAt = new Option<string[]>("--apply-at")
        {
            Description = "SECONDS=PATH: kubectl-apply the manifests in PATH when the capture's clock is SECONDS past its first frame (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };

        var explain = new Option<long?>("--explain") { Description = "Replay up to frame N (1-based, as verdict lines count) and print its stage log and why it got its verdict; writes nothing" };
        var explainJson = new Option<bool>("--json") { Description = "With --explain: one JSON line {frame, verdict, reason, stages, why}" };

        var pipelineArgs = new PipelineArgs();
        var cmd = new Command("replay", "Replay a capture through the data plane of one node") { input, output, verdicts, quiet, dumpCt, dumpNat, applyAt, explain, explainJson };
        clusterArgs.AddTo(cmd);
        pipelineArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ControlPlane control = clusterArgs.CreateControlPlane(pr);
            List<ReplayUpdate> updates = [.. (pr.GetValue(applyAt) ?? []).Select(a => ParseApply(a, control))];
            var (workers, steering) = pipelineArgs.CreateWorkers(pr, control.Holder);
            string inPath = pr.GetValue(input)!;
            if (pr.GetValue(explain) is long frame)
                return Explain(inPath, frame, control, workers, steering, updates, pr.GetValue(explainJson), clusterArgs.Options(pr).LoadBalancerPool);
            ReplaySummary s = ReplaySession.Run(inPath, pr.GetValue(output), pr.GetValue(verdicts), workers, steering, updates);
            Print(Console.Out, inPath, s, workers, pr.GetValue(quiet));
            if (pr.GetValue(dumpCt))
            {
                Console.Out.WriteLine("conntrack table:");
                foreach (PacketPipeline p in workers) ConntrackListing.WriteCt(Console.Out, p.Conntrack, p.Maps, s.LastTimestampNs);
            }
            if (pr.GetValue(dumpNat))
            {
                Console.Out.WriteLine("nat table:");
                foreach (PacketPipeline p in workers) ConntrackListing.WriteNat(Console.Out, p.Conntrack, s.LastTimestampNs);
            }
            return 0;
        }));
        return cmd;
    }

    static int Explain(string inPath, long frame, ControlPlane control, PacketPipeline[] workers, FlowSteering steering, List<ReplayUpdate> updates, bool json, Cidr4? lbPool)
    {
        if (frame < 1) throw new UsageException($"--explain: {frame} is not a frame number (the first frame is 1)");
        ExplainedFrame f = ReplayExplain.Run(inPath, frame, workers, steering, updates)
            ?? throw new UsageException($"--explain: {inPath} has fewer than {frame} frames");
        string why = f.Kind switch
        {
            LinkFrameKind.Outgoing => "a cooked capture's copy of a frame the node sent: already translated on its way out, not processed again",
            LinkFrameKind.Unsupported => "a link type the data plane does not read: not processed",
            _ => new Explainer(control.CurrentManifests, control.NodeName, f.Maps, lbPool).Why(f.Log),
        };
        if (json)
        {
            var o = new System.Text.Json.Nodes.JsonObject
            {
                ["frame"] = f.Frame,
                ["verdict"] = f.Verdict.Name(),
                ["reason"] = f.Result.Reason == DropReason.None ? null : f.Result.Reason.Name(),
                ["stages"] = TraceText.Json(f.Log, f.Maps),
                ["why"] = why,
            };
            Console.Out.WriteLine(o.ToJsonString(TraceText.JsonOptions));
            return 0;
        }
        Console.Out.WriteLine($"frame       {f.Frame} at +{f.TimestampNs / 1e9:0.######}s");
        Console.Out.WriteLine(TraceText.Text(TraceText.Arrived(f.Log) ?? "(not parsed)", f.Log, f.Maps, [], why));
        return 0;
    }

    /// <summary>"SECONDS=PATH" → an update that applies PATH through the control plane, keeping the last good state on error.</summary>
    static ReplayUpdate ParseApply(string spec, ControlPlane control)
    {
        int eq = spec.IndexOf('=');
        if (eq <= 0 || !double.TryParse(spec[..eq], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double sec) || sec < 0 || double.IsInfinity(sec))
            throw new UsageException($"--apply-at: '{spec}' is not SECONDS=PATH (e.g. 5=manifests/after.yaml)");
        string path = spec[(eq + 1)..];
        if (!File.Exists(path) && !Directory.Exists(path)) throw new UsageException($"--apply-at: {path}: no such file or directory");
        return new ReplayUpdate((long)Math.Round(sec * 1e9), $"apply {path}", () =>
        {
            try
            {
                control.Apply(path);
                return null;
            }
            catch (ManifestException e) { return e.Message; }
        });
    }

    static void Print(TextWriter w, string input, ReplaySummary s, PacketPipeline[] workers, bool quiet)
    {
        w.WriteLine($"{input}: {s.Frames} frames, {s.Emitted} emitted");
        if (!quiet)
        {
            w.WriteLine("flows:");
            s.Flows.Print(w);
        }
        w.Write("verdicts:");
        foreach (Verdict v in new[] { Verdict.Forward, Verdict.Reject, Verdict.Pass, Verdict.Drop, Verdict.Local, Verdict.Answer })
            if (s.ByVerdict.TryGetValue(v, out long c)) w.Write($" {v.Name()}={c}");
        w.WriteLine();
        if (s.ByReason.Count > 0)
        {
            w.Write("drop reasons:");
            foreach (var (reason, c) in s.ByReason.OrderBy(kv => (int)kv.Key)) w.Write($" {reason.Name()}={c}");
            w.WriteLine();
        }
        foreach (string u in s.Updates) w.WriteLine($"update: {u}");
        foreach (string line in ReplayNotes.Lines(s)) w.WriteLine(line);
        // Live at the capture's last timestamp: entries past their expiry that the GC has not reached are not counted.
        int[] live = [.. workers.Select(p => ConntrackListing.LiveCount(p.Conntrack, s.LastTimestampNs))];
        w.WriteLine($"conntrack: {live.Sum()} live flows" + (workers.Length > 1 ? $" ({string.Join(" + ", live)} over {workers.Length} workers)" : ""));
        double pipeSec = s.PipelineTime.TotalSeconds, totalSec = s.TotalTime.TotalSeconds;
        // Below a few thousand frames the figure is JIT warm-up, not throughput.
        if (s.Frames >= 10_000 && pipeSec > 0)
            w.WriteLine($"throughput: pipeline {s.Frames / pipeSec:N0} frames/s, whole run {s.Frames / totalSec:N0} frames/s" + (workers.Length > 1 ? $" ({workers.Length} workers)" : ""));
    }
}
