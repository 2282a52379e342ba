namespace DataPlane.Tests.Live;

/// <summary>
/// A fact that needs what live mode needs: Linux, root (network namespaces, TAP devices), /dev/net/tun, iproute2 and
/// the system python3 (the traffic helper uses only its standard library). Skipped, saying which is missing, otherwise.
/// </summary>
public sealed class RootTapFactAttribute : FactAttribute
{
    public RootTapFactAttribute()
    {
        string? missing =
            !OperatingSystem.IsLinux() ? "not Linux" :
            !Environment.IsPrivilegedProcess ? "not root (network namespaces and TAP devices need it)" :
            !File.Exists("/dev/net/tun") ? "/dev/net/tun is missing (modprobe tun)" :
            !File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip") ? "iproute2 (ip) is not installed" :
            !File.Exists(LiveTapEndToEndTests.Python) ? $"{LiveTapEndToEndTests.Python} is missing" :
            null;
        if (missing is not null) Skip = $"live TAP test skipped: {missing}";
    }
}
