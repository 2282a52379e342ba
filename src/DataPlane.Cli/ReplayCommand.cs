using System.CommandLine;
using DataPlane.IO.Pcap;
using DataPlane.IO.Report;
using DataPlane.IO.Replay;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Explain;
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

        var progress = new Option<ProgressMode>("--progress")
        {
            Description = "Progress on stderr: auto (a live line on a terminal, a plain line every 10 s otherwise), always (the live line), never",
            DefaultValueFactory = _ => ProgressMode.Auto,
        };

        var backends = new Option<BackendMode>("--backends")
        {
            Description = "draw: new connections' backends drawn as the data plane does; follow: the backend the capture's replies (or translated copies) show, when it is a usable endpoint",
            DefaultValueFactory = _ => BackendMode.Draw,
        };

        var report = new Option<string?>("--report")
        {
            Description = "Write FILE.html: one self-contained page (inline SVG, no script, the data as embedded JSON) with verdicts over time, drops by reason, backends against their promised share, conntrack and SNAT occupancy, the top conversations",
        };

        var pipelineArgs = new PipelineArgs();
        var cmd = new Command("replay", "Replay a capture through the data plane of one node") { input, output, verdicts, quiet, dumpCt, dumpNat, applyAt, explain, explainJson, progress, backends, report };
        clusterArgs.AddTo(cmd);
        pipelineArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            ControlPlane control = clusterArgs.CreateControlPlane(pr);
            List<ReplayUpdate> updates = [.. (pr.GetValue(applyAt) ?? []).Select(a => ParseApply(a, control))];
            using WorkerSet workers = pipelineArgs.CreateWorkers(pr, control.Holder);
            string inPath = pr.GetValue(input)!;
            string? reportPath = pr.GetValue(report);
            if (pr.GetValue(explain) is long frame)
            {
                // An explained replay stops at its frame and writes nothing: a report of part of a capture would mislead.
                if (reportPath is not null) throw new UsageException("--report: not with --explain (an explained replay stops at its frame and writes nothing)");
                return Explain(inPath, frame, control, workers, updates, pr.GetValue(explainJson));
            }
            // Opened before the replay, as -o and --verdicts are, so a path that cannot be written fails at once.
            using ReportFile? reportFile = reportPath is null ? null : new ReportFile(reportPath);
            ReplayReport? collector = reportFile is null ? null : new ReplayReport(inPath);
            ReplaySummary s = ReplaySession.Run(inPath, pr.GetValue(output), pr.GetValue(verdicts), workers, updates,
                                                ReplayProgress.For(pr.GetValue(progress), Console.Error), pr.GetValue(backends) == BackendMode.Follow, collector);
            reportFile?.Write(collector!.Finish() with { Notes = [.. ReplayNotes.Lines(s)] });
            ReplaySummaryText.Write(Console.Out, inPath, s, workers.Pipelines, pr.GetValue(quiet));
            if (pr.GetValue(dumpCt)) ConntrackListing.WriteCtSection(Console.Out, workers.Pipelines, s.LastTimestampNs);
            if (pr.GetValue(dumpNat)) ConntrackListing.WriteNatSection(Console.Out, workers.Pipelines, s.LastTimestampNs);
            return 0;
        }));
        return cmd;
    }

    static int Explain(string inPath, long frame, ControlPlane control, WorkerSet workers, List<ReplayUpdate> updates, bool json)
    {
        if (frame < 1) throw new UsageException($"--explain: {frame} is not a frame number (the first frame is 1)");
        ExplainedFrame f = ReplayExplain.Run(inPath, frame, workers, updates)
            ?? throw new UsageException($"--explain: {inPath} has fewer than {frame} frame{(frame == 1 ? "" : "s")}");
        ReplayExplainText.Write(Console.Out, f, ReplayExplainText.Why(f, new Explainer(control.Resolved, control.NodeName, f.Maps)), json);
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
}
