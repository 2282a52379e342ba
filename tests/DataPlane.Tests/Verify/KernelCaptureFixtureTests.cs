using DataPlane.FixtureBuilder.Verify;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Verify;

/// <summary>
/// The kernel captures kept in pcaps/verify (made by tests/kernel-captures/make.sh) and their altered copies: the captures
/// hold what their READMEs say, and the altered copies are what the fixture builder makes of them today, byte for byte.
/// </summary>
public sealed class KernelCaptureFixtureTests
{
    static string VerifyRoot => Repo.Path_("pcaps", "verify");

    public static TheoryData<string, uint> Captures => new()
    {
        // iptables mode was captured with -y LINUX_SLL2, nftables mode with tcpdump's default LINUX_SLL.
        { "kernel-iptables", KernelCapture.LinkSll2 },
        { "kernel-nftables", KernelCapture.LinkSll },
    };

    [Theory]
    [MemberData(nameof(Captures))]
    public void Kernel_capture_has_the_shape_its_readme_claims(string name, uint linkType)
    {
        string dir = Path.Combine(VerifyRoot, name);
        KernelCaptureShape.Check(dir, linkType);
        string readme = File.ReadAllText(Path.Combine(dir, "README.md"));
        Assert.Contains(linkType == KernelCapture.LinkSll2 ? "LINUX_SLL2" : "LINUX_SLL", readme);
        Assert.Contains("Kernel: `", readme);
        Assert.Contains("tcpdump version", readme);
        foreach (string yaml in new[] { "nodes.yaml", "kube-proxy.yaml", "services.yaml" })
            Assert.True(File.Exists(Path.Combine(dir, "cluster", yaml)), $"{name}/cluster/{yaml} is missing");
        Assert.Contains($"mode: {name["kernel-".Length..]}", File.ReadAllText(Path.Combine(dir, "cluster", "kube-proxy.yaml")));
    }

    [Fact]
    public void Regenerating_the_altered_captures_gives_identical_bytes()
    {
        using var tmp = new TempDir("altered");
        AlteredCaptures.WriteAll(VerifyRoot, tmp.Path);
        string kept = Path.Combine(VerifyRoot, "altered");
        var made = Files(tmp.Path);
        Assert.Equal(Files(kept), made);
        foreach (string f in made)
            Assert.True(File.ReadAllBytes(Path.Combine(kept, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(tmp.Path, f))),
                $"pcaps/verify/altered/{f} is stale: run `dotnet run --project tests/DataPlane.FixtureBuilder -- --verify-altered pcaps/verify`");
    }

    static List<string> Files(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> AlteredNames => [.. AlteredCaptures.Names];

    /// <summary>An altered copy differs from its kernel capture in the frames its expected.json names and nowhere else;
    /// every checksum is right except the one the bad-checksum case breaks on purpose.</summary>
    [Theory]
    [MemberData(nameof(AlteredNames))]
    public void Altered_copy_differs_only_in_the_frames_it_names(string name)
    {
        string dir = Path.Combine(VerifyRoot, "altered", name);
        var expected = AlteredExpectation.Read(dir);
        KernelCapture altered = KernelCapture.Read(Path.Combine(dir, "node.pcap"));
        KernelCapture source = KernelCapture.Read(Repo.Path_([.. expected.Source.Split('/')]));
        Assert.Equal(source.Frames.Count, altered.Frames.Count);
        var named = expected.Diverges.SelectMany(d => d.Frames).ToHashSet();
        var changed = altered.Frames.Where(f => !f.Record.AsSpan().SequenceEqual(source.Frames[f.Number - 1].Record)).Select(f => f.Number).ToHashSet();
        if (name == "backend-not-ready")
        {
            Assert.Empty(changed); // the capture is the kernel's; the manifests say the backend is not ready
            Assert.Contains("ready: false", File.ReadAllText(Path.Combine(dir, "cluster", "services.yaml")));
        }
        else Assert.Equal(named.Order(), changed.Order());

        foreach (var f in altered.Frames)
        {
            Assert.True(f.IpChecksumValid, $"{name} {f}: IP checksum");
            bool broken = name == "bad-checksum" && named.Contains(f.Number);
            if (f.IsTcpOrUdp) Assert.True(f.L4ChecksumValid != broken, $"{name} {f}: {f.Proto} checksum {(broken ? "should be wrong" : "wrong")}");
        }
        Assert.NotEmpty(expected.Diverges);
    }
}
