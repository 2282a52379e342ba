namespace DataPlane.Kubernetes.Resolved;

/// <summary>What Kubernetes promises a new connection to a frontend.</summary>
public enum PromisedOutcome : byte
{
    /// <summary>An endpoint answers.</summary>
    Served,
    /// <summary>No usable endpoint anywhere: the node rejects (TCP reset, ICMP port unreachable).</summary>
    Refused,
    /// <summary>Dropped without an answer: externalTrafficPolicy Local with no endpoint on this node, a source outside loadBalancerSourceRanges.</summary>
    TimedOut,
}
