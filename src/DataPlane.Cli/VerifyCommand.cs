using System.CommandLine;
using DataPlane.IO.Replay;
using DataPlane.IO.Report;
using DataPlane.IO.Text;
using DataPlane.IO.Verify;
using DataPlane.Kubernetes;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane verify --cluster PATH [--node N] CAPTURE… [--json]</c>: a node's own capture (both directions)
/// checked against the Service semantics, connection by connection. Exit 0 when nothing diverges, 1 when something
/// does, 2 on bad input — <c>kubectl diff</c>'s convention, so a script can tell "the node is wrong" from "the input is".
/// </summary>
public static class VerifyCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var captures = new Argument<string[]>("capture")
        {
            Description = "The node's capture with both directions (tcpdump -i any: SLL or SLL2), or captures of its interfaces, merged by time",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "One JSON object per connection, then {\"summary\":…}" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Leave out the connections that agree: print only those that diverge or are incomplete, and the summary" };
        var progress = new Option<ProgressMode>("--progress")
        {
            Description = "Progress on stderr: auto (a live line on a terminal, a plain line every 10 s otherwise), always, never",
            DefaultValueFactory = _ => ProgressMode.Auto,
        };
        var reportOption = new Option<string?>("--report")
        {
            Description = "Write FILE.html: one self-contained page (inline SVG, no script, the data as embedded JSON) with the connections that diverge, verdicts over time, drops, backends, occupancy and the top conversations",
        };
        var pipelineArgs = new PipelineArgs();
        var cmd = new Command("verify", "Check a node's capture against what the Service semantics call for, connection by connection") { captures, json, quiet, progress, reportOption };
        clusterArgs.AddTo(cmd);
        pipelineArgs.AddTo(cmd, workers: false);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            string[] paths = pr.GetValue(captures) ?? [];
            foreach (string p in paths)
                if (!File.Exists(p)) throw new FileNotFoundException(null, p);
            // Without --node, the node whose addresses and pods the capture is full of: a node's own capture says whose it is.
            string? guessed = null;
            if (!clusterArgs.HasNode(pr))
            {
                var (node, touching, read) = CaptureNode.Guess(paths, clusterArgs.LoadQuietly(pr).Nodes);
                if (node is not null && read > 0)
                    Console.Error.WriteLine($"dataplane: verify: no --node given; {node} chosen: {touching:N0} of the capture's first {read:N0} frames are to or from its addresses or pod CIDR");
                guessed = node;
            }
            ControlPlane control = clusterArgs.CreateControlPlane(pr, guessed);
            // One worker: a masquerade port the capture shows is followed whatever flow class it falls in, which
            // steering over several workers would not allow.
            using var workers = new WorkerSet(control.Holder, pipelineArgs.Parse(pr), 1);
            // Opened before the run, so a path that cannot be written fails at once; removed if the run fails.
            using ReportFile? reportFile = pr.GetValue(reportOption) is { } reportPath ? new ReportFile(reportPath) : null;
            ReplayReport? collector = reportFile is null ? null : new ReplayReport(string.Join(", ", paths)) { Command = "verify" };
            VerifyReport report = VerifySession.Run(paths, workers, control.Resolved, control.NodeName,
                ReplayProgress.For(pr.GetValue(progress), Console.Error, "verify"), collector);
            reportFile?.Write(collector!.Finish() with { Connections = VerifySession.ReportRows(report), Notes = [VerifyText.Summary(report)] });
            if (pr.GetValue(json)) VerifyText.WriteJson(Console.Out, report);
            else VerifyText.Write(Console.Out, report, pr.GetValue(quiet));
            // A corrupt record ended the capture: what came before it was verified and printed; the input is still bad.
            if (report.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            return report.Diverges > 0 ? 1 : 0;
        }, failCode: 2));
        return cmd;
    }
}
