using DataPlane.Packets;

namespace DataPlane.Cli.Lab;

/// <summary>
/// One network namespace of a lab: its name as <c>lab exec</c> takes it ("external", "pod", "NS/POD"), the namespace,
/// its one address, the veth on the node side that leads to it, the ports its server listens on ("tcp:80") and the
/// resolv.conf <c>ip netns exec</c> shows programs run in it (null: the host's).
/// </summary>
public sealed record LabMember(string Name, string Netns, uint Ip, LabRole Role, string Link, IReadOnlyList<string> Ports, string? ResolvConf)
{
    /// <summary>The member's line in the state file: tab-separated fields, ports comma-separated.</summary>
    public string ToLine() => string.Join('\t', Name, Netns, Ip4.Format(Ip), Role, Link, string.Join(',', Ports));

    public static LabMember? FromLine(string line)
    {
        string[] f = line.Split('\t');
        if (f.Length != 6 || !Ip4.TryParse(f[2], out uint ip) || !Enum.TryParse(f[3], out LabRole role)) return null;
        return new LabMember(f[0], f[1], ip, role, f[4], f[5].Length == 0 ? [] : f[5].Split(','), null);
    }
}
