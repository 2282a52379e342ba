using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.Pipeline;

namespace DataPlane.IO.Text;

/// <summary>
/// The replay summary's lines about the capture itself rather than the cluster: frames the node sent (a
/// <c>tcpdump -i any</c> capture), link types not understood, and a capture taken where the replies already carry
/// the service address.
/// </summary>
public static class ReplayNotes
{
    public static IEnumerable<string> Lines(ReplaySummary s)
    {
        if (s.OutgoingCopies > 0)
            yield return $"link: {s.OutgoingCopies} outgoing cop{(s.OutgoingCopies == 1 ? "y" : "ies")} not processed (Linux cooked capture, " +
                         "packet type outgoing: frames the node itself sent, already translated; verdict pass, reason outgoing-copy)";
        if (s.UnpickedBackends > 0)
            yield return $"backends: {s.UnpickedBackends} connection{(s.UnpickedBackends == 1 ? "" : "s")}: replies came from {s.FirstUnpickedBackend}" +
                         (s.UnpickedBackends > 1 ? " and others" : "") + ", a usable endpoint the data plane did not pick; try --backends follow";
        if (s.FollowedConnections == 0)
            yield return "backends: the capture shows no backend reached by a connection to a service; every new connection was drawn";
        else if (s.FollowedConnections > 0)
            yield return $"backends: the capture shows the backend reached from {s.FollowedConnections} client address and port{(s.FollowedConnections == 1 ? "" : "s")}; new connections from them followed it, others were drawn";
        if (s.CutFrames > 0)
        {
            long undecided = s.ByReason.GetValueOrDefault(DropReason.CaptureTruncated);
            string frames = $"{s.CutFrames} frame{(s.CutFrames == 1 ? "" : "s")}";
            yield return $"capture: the capture cut {frames} short (snap length); " + (undecided == 0
                ? "all were decided from their headers (forwarded ones are written out as cut as they came)"
                : $"{s.CutFrames - undecided} decided from their headers, {undecided} dropped capture-truncated " +
                  "(a header, or a payload the verdict reads, was not captured: what the node did is unknown)");
        }
        foreach (var (link, n) in s.UnsupportedLinkTypes.OrderBy(kv => (int)kv.Key))
            yield return $"link: {n} frame{(n == 1 ? "" : "s")} of link type {Name(link)} not understood (dropped, unsupported-link-type)";
        if (s.FromServiceAddress > 0)
        {
            long invalid = s.ByReason.GetValueOrDefault(DropReason.CtInvalid);
            string why = invalid > 0
                ? $"; this capture point explains the {invalid} ct-invalid drop{(invalid == 1 ? "" : "s")}: the data plane never sees the backends' replies, so their connections stay in SYN_SENT"
                : "";
            yield return $"capture point: {s.FromServiceAddress} {(s.FromServiceAddress == 1 ? "frame comes" : "frames come")} from a service address " +
                         $"(first: {s.FirstServiceSource}), i.e. replies after reverse NAT: the capture was taken on the client side, not where the data plane sits{why}";
        }
    }

    /// <summary>"LINKTYPE_NAME (N)" for the link types we name, "N" otherwise.</summary>
    public static string Name(LinkType link) =>
        Enum.IsDefined(link) && link != LinkType.Unknown ? $"{link} ({(int)link})" : link == LinkType.Unknown ? "unknown (no interface description)" : ((int)link).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
