namespace DataPlane.IO.Verify;

/// <summary>One field of one frame where the node did something else than the Service semantics call for.</summary>
/// <param name="Frame">The frame the difference is seen on: the node's sent frame, or the received one when the node sent nothing.</param>
/// <param name="Field">verdict, dst, backend, src, reverse-nat, ttl, checksum, icmp, sent.</param>
public sealed record VerifyDiff(long Frame, string Field, string Expected, string Seen, string Why);

/// <summary>A connection of the capture as the node's client opened it, and what <c>verify</c> found.</summary>
public sealed class VerifyConnection
{
    public required string Proto { get; init; }
    /// <summary>The client's address (and port) as the connection arrived at the node.</summary>
    public required string Src { get; init; }
    /// <summary>Where the client sent it (a service frontend, or any destination).</summary>
    public required string Dst { get; init; }
    /// <summary>"ns/name:port" of the service port it reached; null when it is no service's.</summary>
    public string? Service { get; set; }
    /// <summary>Every frame of the connection, received and sent, in capture order.</summary>
    public List<long> Frames { get; } = [];
    public List<VerifyDiff> Diffs { get; } = [];
    /// <summary>What the capture's choices were and why they are allowed (for an agreeing connection).</summary>
    public List<string> Notes { get; } = [];
    /// <summary>Why the connection cannot be judged (null: it can).</summary>
    public string? Incomplete { get; set; }

    public string Status => Diffs.Count > 0 && Incomplete is null ? "diverges" : Incomplete is not null ? "incomplete" : "agrees";

    /// <summary>The one sentence the listing gives: the first difference's reason, why the capture cannot tell, or what was followed.</summary>
    public string Why => Status switch
    {
        "diverges" => Diffs[0].Why,
        "incomplete" => Incomplete!,
        _ => Notes.Count > 0 ? string.Join("; ", Notes) : "",
    };
}

/// <summary>What <c>verify</c> found in a node's capture.</summary>
public sealed class VerifyReport
{
    public List<VerifyConnection> Connections { get; } = [];
    public long Frames { get; set; }
    public long Received { get; set; }
    public long Sent { get; set; }
    public long Duplicates { get; set; }
    /// <summary>Frames the node sent that answer nothing it received (its own traffic, or copies of what it forwarded on other interfaces).</summary>
    public long NodeOwn { get; set; }
    public long Other { get; set; }
    /// <summary>Connections whose backend, or masquerade port, the replay took from the capture.</summary>
    public int FollowedBackends { get; set; }
    public int FollowedPorts { get; set; }
    public TimeSpan Elapsed { get; set; }
    /// <summary>The corrupt record that ended the capture (the frames before it were verified); null when it was read whole.</summary>
    public DataPlane.IO.Pcap.CaptureFormatException? Error { get; set; }

    public int Agrees => Connections.Count(c => c.Status == "agrees");
    public int Diverges => Connections.Count(c => c.Status == "diverges");
    public int Incomplete => Connections.Count(c => c.Status == "incomplete");
}
