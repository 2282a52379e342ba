using DataPlane.Tests.Live;

namespace DataPlane.Tests.Lab;

/// <summary>
/// A fact that needs what <c>dataplane lab</c> needs: what live mode needs (<see cref="RootTapFactAttribute"/>: Linux,
/// root, /dev/net/tun, iproute2, the system python3) plus the real clients the lab runs, curl and dig (installed by
/// .ci/setup-tests.sh). Skipped with a clear message only where /dev/net/tun is missing or the test is not root; a
/// missing program fails the test instead, so CI cannot pass by skipping.
/// </summary>
public sealed class LabFactAttribute : FactAttribute
{
    public LabFactAttribute()
    {
        string? skip = new RootTapFactAttribute().Skip;
        if (skip is not null) Skip = skip.Replace("live TAP test", "lab test", StringComparison.Ordinal);
    }
}
