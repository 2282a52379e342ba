namespace DataPlane.Dns;

/// <summary>When the data plane answers queries to the cluster DNS address itself (<c>--dns</c>).</summary>
public enum DnsMode : byte
{
    /// <summary>Answer only when the manifests name the DNS service (kube-system/kube-dns) but give its port 53 no
    /// endpoint to DNAT to; otherwise leave the query to kube-proxy's rules, as today.</summary>
    Auto,
    /// <summary>Always answer (<c>--dns answer</c>, or <c>--cluster-dns IP</c>).</summary>
    Answer,
    /// <summary>Never answer: DNS is ordinary Service traffic (<c>--dns proxy</c>).</summary>
    Proxy,
}
