using DataPlane.IO.Pcap;
using DataPlane.IO.Verify;
using DataPlane.Kubernetes;
using DataPlane.Pipeline;
using DataPlane.Tests.Fixtures;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Verify;

/// <summary>
/// Bad input never crashes anything: <c>verify</c> over every real capture of the corpus (pcaps/corpus: tcpdump's,
/// Wireshark's, Zeek's… test data, fuzzed and broken files included). Each either verifies every frame it reads, or
/// is refused at its header with the <see cref="CaptureFormatException"/> replay gives it, or ends at a corrupt record
/// with the frames before it verified; every frame is accounted for by role.
/// </summary>
public sealed class VerifyCorpusTests
{
    public static TheoryData<string> CorpusFiles() => CorpusRobustnessTests.CorpusFiles();

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Verify_reads_every_corpus_capture_or_names_what_is_wrong_with_it(string name)
    {
        string path = Path.Combine(Repo.Corpus, name);
        var control = new ControlPlane(Repo.Cluster, "node-1");
        using var workers = new WorkerSet(control.Holder, new PipelineOptions { CtCapacity = 1 << 12 }, 1);
        VerifyReport r;
        try
        {
            r = VerifySession.Run([path], workers, control.Resolved, control.NodeName);
        }
        catch (CaptureFormatException) when (CorpusRobustnessTests.Rejected.Contains(name))
        {
            return; // refused at its header, as replay refuses it
        }
        Assert.True(r.Error is null || CorpusRobustnessTests.Rejected.Contains(name), $"{name}: {r.Error?.Message}");
        Assert.Equal(r.Frames, r.Received + r.Sent + r.Duplicates + r.Other);
        Assert.Equal(r.Connections.Count, r.Agrees + r.Diverges + r.Incomplete);
        Assert.All(r.Connections, c => Assert.NotEmpty(c.Frames));
    }
}
