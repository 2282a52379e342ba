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
    /// Why the frame got its verdict: <paramref name="explainer"/> reading its stage log, whichever stage decided (a
    /// frame the replay's link layer kept from the pipelines has that decision's record).
    /// </summary>
    public static string Why(ExplainedFrame f, Explainer explainer) => explainer.Why(f.Log);

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
