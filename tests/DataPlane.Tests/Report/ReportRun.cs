using DataPlane.FixtureBuilder;
using DataPlane.IO.Replay;
using DataPlane.IO.Report;
using DataPlane.Kubernetes;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Report;

/// <summary>A bundled case replayed with a report, in process: its summary and the report's data.</summary>
static class ReportRun
{
    public sealed record Result(ReplaySummary Summary, ReportData Data);

    /// <summary>
    /// Replays case <paramref name="id"/> against pcaps/cluster as node-1 (seed 1), with its <c>--apply-at</c> updates
    /// when <paramref name="applyAt"/> names them (seconds → file in the case's folder), as the CLI applies them.
    /// </summary>
    public static Result Run(string id, int workers = 1, PipelineOptions? options = null, (double Seconds, string File)[]? applyAt = null,
        string? output = null, string? verdicts = null, bool report = true)
    {
        var control = new ControlPlane(Repo.Cluster, Case.Node);
        List<ReplayUpdate> updates = [.. (applyAt ?? []).Select(a =>
        {
            string path = Path.Combine(Repo.Cases, id, a.File);
            return new ReplayUpdate((long)(a.Seconds * 1e9), $"apply {a.File}", () =>
            {
                control.Apply(path);
                return null;
            });
        })];
        using var set = new WorkerSet(control.Holder, options ?? new PipelineOptions { Seed = Case.Seed, CtCapacity = 1 << 12 }, workers);
        string input = Path.Combine(Repo.Cases, id, "input.pcap");
        ReplayReport? collector = report ? new ReplayReport(input) : null;
        ReplaySummary s = ReplaySession.Run(input, output, verdicts, set, updates, report: collector);
        return new Result(s, collector?.Finish() ?? new ReportData { Title = input });
    }
}
