using DataPlane.IO.Pcap;
using System.Text.Json.Nodes;
using DataPlane.IO.Replay;
using DataPlane.Kubernetes.Explain;
using DataPlane.Pipeline;

namespace DataPlane.IO.Text;

/// <summary>
/// <c>replay --explain N</c>: frame N's number and time, the packet as it arrived, its stage log and why; or one JSON
/// line <c>{"frame","verdict","reason","stages","why"}</c>.
/// </summary>
public static class ReplayExplainText
{
    /// <summary>
    /// Why the frame got its verdict: <paramref name="explainer"/> reading its stage log, or, for a frame the pipeline
    /// never saw (a cooked capture's outgoing copy, an unknown link type), what the replay did with it.
    /// </summary>
    public static string Why(ExplainedFrame f, Explainer explainer) => f.Kind switch
    {
        LinkFrameKind.Outgoing => "a cooked capture's copy of a frame the node sent: already translated on its way out, not processed again",
        LinkFrameKind.Unsupported => "a link type the data plane does not read: not processed",
        _ => explainer.Why(f.Log),
    };

    public static void Write(TextWriter w, ExplainedFrame f, string why, bool json)
    {
        if (json)
        {
            var o = new JsonObject
            {
                ["frame"] = f.Frame,
                ["verdict"] = f.Verdict.Name(),
                ["reason"] = f.Result.Reason == DropReason.None ? null : f.Result.Reason.Name(),
                ["stages"] = TraceText.Json(f.Log, f.Maps),
                ["why"] = why,
            };
            w.WriteLine(o.ToJsonString(TraceText.JsonOptions));
            return;
        }
        w.WriteLine($"frame       {f.Frame} at +{f.TimestampNs / 1e9:0.######}s");
        w.WriteLine(TraceText.Text(TraceText.Arrived(f.Log) ?? "(not parsed)", f.Log, f.Maps, [], why));
    }
}
