namespace DataPlane.Pipeline;

/// <summary>
/// What a stage or the whole pipeline decides. <see cref="Continue"/> is katran's FURTHER_PROCESSING: only stages return
/// it; the runner turns it into one of the others.
/// </summary>
public enum Verdict : byte
{
    Continue = 0,
    /// <summary>Translated (or tracked) and sent on: the frame, rewritten in place, is the output.</summary>
    Forward = 1,
    /// <summary>Not ours: handed to the host stack untouched (non-IPv4, non-service traffic). Cilium's TC_ACT_OK.</summary>
    Pass = 2,
    /// <summary>Discarded, with a <see cref="DropReason"/>.</summary>
    Drop = 3,
    /// <summary>Refused with an ICMP port-unreachable to the sender (kube-proxy's REJECT for services without endpoints).</summary>
    Reject = 4,
    /// <summary>Answered by the node itself (e.g. a healthCheckNodePort); nothing is forwarded.</summary>
    Local = 5,
    /// <summary>Answered by the data plane itself as the cluster DNS server: the response, built in the reply buffer
    /// with the DNS address as its source, is the output (<c>reply[..OutLength]</c>).</summary>
    Answer = 6,
    /// <summary>A fragment absorbed into a datagram reassembled before the pipeline (<see cref="FragmentHold"/>): the
    /// datagram's outcome is that of the fragment that completed it; this one has no output of its own.</summary>
    Reassembled = 7,
}

public static class VerdictNames
{
    public static string Name(this Verdict v) => v switch
    {
        Verdict.Forward => "forward",
        Verdict.Pass => "pass",
        Verdict.Drop => "drop",
        Verdict.Reject => "reject",
        Verdict.Local => "local",
        Verdict.Answer => "answer",
        Verdict.Reassembled => "reassembled",
        _ => "continue",
    };
}
