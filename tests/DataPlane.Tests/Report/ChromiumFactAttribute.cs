namespace DataPlane.Tests.Report;

/// <summary>A fact that needs Debian's chromium (installed by <c>.ci/setup-tests.sh</c>); skipped, saying so, without it.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null) Skip = "browser test skipped: chromium is not installed (.ci/setup-tests.sh installs Debian's chromium)";
    }
}
