namespace DataPlane.Dns;

/// <summary>CoreDNS kubernetes plugin's <c>pods</c> option: how <c>a-b-c-d.&lt;ns&gt;.pod.&lt;zone&gt;</c> is answered.</summary>
public enum DnsPodsMode : byte
{
    /// <summary>Always NXDOMAIN below <c>&lt;ns&gt;.pod.&lt;zone&gt;</c> (the plugin's own default).</summary>
    Disabled,
    /// <summary>The address written in the name, nothing checked (kubeadm's and CoreDNS's deployed Corefile).</summary>
    Insecure,
    /// <summary>Only when a pod with that address exists in that namespace.</summary>
    Verified,
}
