using System.Net;
using System.Text.Json.Nodes;
using CsCheck;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;
using DataPlane.Tests.Infrastructure;
using PacketDotNet;

namespace DataPlane.Tests.Fixtures;

/// <summary>
/// Robustness against real captures: every file of the capture corpus (pcaps/corpus) replayed in-process against pcaps/cluster
/// (node-1), and the regression inputs mutated at random (bytes flipped, frames cut short or padded) and pushed through
/// a pipeline. Bad capture files may only fail with <see cref="CaptureFormatException"/>; bad frames never throw, always
/// get a final verdict, and every drop says why. Every frame that comes out parses and carries correct checksums
/// whenever the frame that went in did.
/// </summary>
public sealed class CorpusRobustnessTests : IDisposable
{
    /// <summary>
    /// Corpus files the reader refuses (see the corpus README, "Capture-file format variants and file-level robustness",
    /// and tests/DataPlane.Tests/IO/CaptureReaderMalformedTests.cs): bad versions, reserved link-type bits, an SHB whose
    /// option overruns it, a record claiming more bytes than the file holds, and a pcapng section of version 2.0.
    /// The last two deliver frames before the error.
    /// </summary>
    public static readonly IReadOnlySet<string> Rejected = new HashSet<string>(StringComparer.Ordinal)
    {
        "pcap-invalid-version-1.pcap",
        "pcap-invalid-version-2.pcap",
        "pcapng-invalid-vers-1.pcapng",
        "pcapng-invalid-vers-2.pcapng",
        "shb-option-too-long.pcapng",
        "linktype-reserved-field-not-zero.pcap",
        "fuzz-2021-10-13.pcap",
        "fuzz.pcap",          // record 2 claims 1409179648 bytes
        "le_test901.pcapng",  // second section has version 2.0
    };

    static readonly uint TcpVip = IPv4("10.96.0.10"), UdpVip = IPv4("10.96.0.53");
    const ushort TcpVipPort = 80, UdpVipPort = 53;

    readonly TempDir _tmp = new("corpus");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    static uint IPv4(string s)
    {
        byte[] b = IPAddress.Parse(s).GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    static string CorpusDir
    {
        get
        {
            string d = Repo.Corpus;
            Assert.True(Directory.Exists(d), $"capture corpus not found at {d} (pcaps/corpus, or DATAPLANE_PCAPS_CORPUS)");
            return d;
        }
    }

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.EnumerateFiles(Repo.Corpus).Select(Path.GetFileName).Order(StringComparer.Ordinal)!)
            if (f!.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal))
                data.Add(f);
        return data;
    }

    static MapSet? s_maps;
    static MapSet Maps => s_maps ??= ControlPlane.LoadAndCompile(Repo.Cluster, "node-1");

    static PacketPipeline NewPipeline() => new(new MapSetHolder(Maps), new PipelineOptions { CtCapacity = 1 << 12 });

    /// <summary>Every frame of a capture (copied), with its link type; stops at the first error, which is returned.</summary>
    static (List<(byte[] Data, LinkType Link, long Ts, int OrigLen)> Frames, CaptureFormatException? Error) ReadAll(string path)
    {
        var list = new List<(byte[], LinkType, long, int)>();
        try
        {
            using var r = new CaptureReader(path);
            while (r.TryRead(out CaptureFrame f)) list.Add((f.Data.ToArray(), f.LinkType, f.TimestampNs, f.OriginalLength));
        }
        catch (CaptureFormatException e)
        {
            return (list, e);
        }
        return (list, null);
    }

    /// <summary>True when PacketDotNet parses <paramref name="frame"/> as Ethernet/IPv4 and every checksum it can check is right.</summary>
    static bool ChecksumsValid(byte[] frame)
    {
        try
        {
            Oracle.AssertChecksums(frame);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    static bool IsIpv4OverEthernet(byte[] frame) => frame.Length >= 14 + 20 && frame[12] == 0x08 && frame[13] == 0x00;

    /// <summary>
    /// Replays <paramref name="input"/>; checks the summary and every output frame against the input frame it came from
    /// (the i-th output is the i-th input frame whose verdict line has an "out" or is a forward).
    /// </summary>
    (ReplaySummary Summary, int Checked) ReplayAndCheck(string input, string tag)
    {
        string output = Path.Combine(_tmp.Path, tag + ".out.pcap"), verdicts = Path.Combine(_tmp.Path, tag + ".jsonl");
        ReplaySummary s = ReplaySession.Run(input, output, verdicts, NewPipeline());

        Assert.Equal(s.Frames, s.ByVerdict.Values.Sum());
        Assert.DoesNotContain(Verdict.Continue, s.ByVerdict.Keys);
        Assert.Equal(s.ByVerdict.GetValueOrDefault(Verdict.Drop), s.ByReason.Values.Sum());
        Assert.DoesNotContain(DropReason.None, s.ByReason.Keys);

        var (inFrames, inError) = ReadAll(input);
        Assert.Null(inError);
        Assert.Equal(inFrames.Count, s.Frames);
        string[] lines = File.ReadAllLines(verdicts);
        Assert.Equal(inFrames.Count, lines.Length);
        var (outFrames, outError) = ReadAll(output);
        Assert.Null(outError);
        Assert.Equal(s.Emitted, outFrames.Count);

        int o = 0, verified = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            JsonObject line = JsonNode.Parse(lines[i])!.AsObject();
            string verdict = (string)line["verdict"]!;
            Assert.True(verdict != "continue", $"{tag}: frame {i + 1}: verdict continue");
            if (verdict == "drop")
                Assert.True(line["reason"] is not null, $"{tag}: frame {i + 1}: drop without a reason");
            bool emitted = verdict == "forward" || (verdict == "reject" && line["out"] is not null);
            if (!emitted) continue;

            Assert.True(o < outFrames.Count, $"{tag}: frame {i + 1} ({verdict}) has no output frame");
            byte[] outFrame = outFrames[o++].Data;
            var (inFrame, link, _, origLen) = inFrames[i];
            Assert.Equal(LinkType.Ethernet, link);
            Packet parsed;
            try { parsed = Packet.ParsePacket(LinkLayers.Ethernet, outFrame); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"{tag}: output of frame {i + 1} does not parse: {e.Message}\n{Convert.ToHexString(outFrame)}"); }
            Assert.NotNull(parsed);

            bool inputComplete = inFrame.Length >= origLen;
            if (verdict == "reject" || (inputComplete && ChecksumsValid(inFrame)))
            {
                try { Oracle.AssertChecksums(outFrame); }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException(
                        $"{tag}: frame {i + 1} ({verdict}) went in with valid checksums and came out with a bad one: {e.Message}\n" +
                        $" in  {Convert.ToHexString(inFrame)}\n out {Convert.ToHexString(outFrame)}");
                }
                verified++;
            }
        }
        Assert.Equal(outFrames.Count, o);
        return (s, verified);
    }

    // ---------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Corpus_is_present_and_every_expected_rejection_is_in_it()
    {
        string[] files = Directory.GetFiles(CorpusDir).Select(f => Path.GetFileName(f)).ToArray();
        Assert.True(files.Count(f => f.EndsWith(".pcap") || f.EndsWith(".pcapng")) >= 100, $"only {files.Length} files in {CorpusDir}");
        foreach (string r in Rejected) Assert.Contains(r, files);
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Every_corpus_file_replays_or_is_rejected_with_CaptureFormatException(string file)
    {
        string path = Path.Combine(CorpusDir, file);
        if (Rejected.Contains(file))
        {
            var e = Assert.Throws<CaptureFormatException>(() =>
                ReplaySession.Run(path, Path.Combine(_tmp.Path, "out.pcap"), Path.Combine(_tmp.Path, "v.jsonl"), NewPipeline()));
            Assert.Contains(file, e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return;
        }

        var (frames, error) = ReadAll(path);
        Assert.True(error is null, $"{file}: not in the expected-rejection list but the reader refused it: {error?.Message}");
        var (summary, _) = ReplayAndCheck(path, file);
        Assert.Equal(frames.Count, summary.Frames);
    }

    /// <summary>
    /// The corpus mostly talks to addresses pcaps/cluster does not know, so most frames pass untouched. Here every
    /// well-formed IPv4 TCP/UDP frame is retargeted to a service (TCP to default/web 10.96.0.10:80, UDP to
    /// kube-system/dns 10.96.0.53:53; checksums recomputed by PacketDotNet) so real-world option layouts, trailers,
    /// snaplen cuts and odd lengths go through DNAT, masquerade and conntrack; everything that comes out must still
    /// carry correct checksums.
    /// </summary>
    [Fact]
    public void Corpus_frames_retargeted_to_services_come_out_with_valid_checksums()
    {
        var retargeted = new List<(byte[] Frame, long Ts)>();
        foreach (string file in Directory.EnumerateFiles(CorpusDir).Order(StringComparer.Ordinal))
        {
            if (!file.EndsWith(".pcap", StringComparison.Ordinal) && !file.EndsWith(".pcapng", StringComparison.Ordinal)) continue;
            foreach (var (data, link, ts, orig) in ReadAll(file).Frames)
            {
                if (link != LinkType.Ethernet || !IsIpv4OverEthernet(data) || data.Length < orig || !ChecksumsValid(data)) continue;
                byte[]? r = Retarget(data);
                if (r is not null) retargeted.Add((r, ts));
            }
        }
        Assert.True(retargeted.Count >= 100, $"only {retargeted.Count} frames retargeted");

        string input = Path.Combine(_tmp.Path, "retargeted.pcap");
        using (var w = new CaptureWriter(input))
            foreach (var (f, ts) in retargeted) w.Write(f, ts);

        var (s, verified) = ReplayAndCheck(input, "retargeted");
        // Most of them must have been translated, or the test exercised nothing.
        Assert.True(s.ByVerdict.GetValueOrDefault(Verdict.Forward) >= retargeted.Count / 2,
            $"only {s.ByVerdict.GetValueOrDefault(Verdict.Forward)} of {retargeted.Count} retargeted frames forwarded; " +
            $"verdicts {string.Join(", ", s.ByVerdict.Select(kv => $"{kv.Key}={kv.Value}"))}; reasons {string.Join(", ", s.ByReason.Select(kv => $"{kv.Key}={kv.Value}"))}");
        Assert.True(verified >= retargeted.Count / 2, $"only {verified} output frames checked");
    }

    /// <summary>
    /// A router does not repair a broken transport checksum: RFC 1624 incremental updates carry the error through. Each
    /// retargeted frame gets a TCP/UDP checksum wrong by a known amount; what comes out must be wrong by the same amount
    /// (in one's complement), and its IPv4 header checksum must still be right.
    /// </summary>
    [Fact]
    public void Bad_transport_checksums_stay_bad_by_the_same_amount_after_translation()
    {
        var frames = new List<byte[]>();
        foreach (string file in Directory.EnumerateFiles(CorpusDir).Order(StringComparer.Ordinal))
        {
            if (!file.EndsWith(".pcap", StringComparison.Ordinal) && !file.EndsWith(".pcapng", StringComparison.Ordinal)) continue;
            foreach (var (data, link, _, orig) in ReadAll(file).Frames)
            {
                if (link != LinkType.Ethernet || !IsIpv4OverEthernet(data) || data.Length < orig || !ChecksumsValid(data)) continue;
                if (Retarget(data) is not { } r || L4ChecksumOffset(r) is not int at) continue;
                ushort seen = (ushort)(r[at] << 8 | r[at + 1]);
                if (seen == 0) continue;  // UDP without checksum
                ushort bad = OnesAdd(seen, 0x1234);
                if (bad == 0) continue;
                r[at] = (byte)(bad >> 8);
                r[at + 1] = (byte)bad;
                frames.Add(r);
            }
        }
        Assert.True(frames.Count >= 100, $"only {frames.Count} frames");

        var pipeline = NewPipeline();
        int forwarded = 0;
        for (int i = 0; i < frames.Count; i++)
        {
            var (v, _, o) = TestWorld.Run(pipeline, frames[i], 1_000_000_000L + i * 1_000_000L);
            if (v != Verdict.Forward) continue;
            forwarded++;
            int before = L4ChecksumError(frames[i]), after = L4ChecksumError(o);
            Assert.True(before == after,
                $"frame {i + 1}: checksum error 0x{before:X4} in, 0x{after:X4} out\n in  {Convert.ToHexString(frames[i])}\n out {Convert.ToHexString(o)}");
            IPv4Packet ip = Oracle.Ip(o);
            ushort ipSeen = ip.Checksum;
            ip.UpdateIPChecksum();
            Assert.Equal(ip.Checksum, ipSeen);
        }
        Assert.True(forwarded >= frames.Count / 2, $"only {forwarded} of {frames.Count} forwarded");
    }

    static ushort OnesAdd(ushort a, ushort b)
    {
        int s = a + b;
        return (ushort)((s & 0xFFFF) + (s >> 16));
    }

    /// <summary>Offset in the frame of the TCP/UDP checksum field (untagged Ethernet), or null.</summary>
    static int? L4ChecksumOffset(byte[] frame)
    {
        int l4 = 14 + (frame[14] & 0x0F) * 4;
        return frame[23] switch { 6 => l4 + 16, 17 => l4 + 6, _ => null };
    }

    /// <summary>Stored minus correct TCP/UDP checksum in one's complement (0 when right; 0x0000 and 0xFFFF are the same zero).</summary>
    static int L4ChecksumError(byte[] frame)
    {
        IPv4Packet ip = Oracle.Ip((byte[])frame.Clone());
        ushort seen, correct;
        switch (ip.PayloadPacket)
        {
            case TcpPacket t: seen = t.Checksum; t.UpdateTcpChecksum(); correct = t.Checksum; break;
            case UdpPacket u: seen = u.Checksum; u.UpdateUdpChecksum(); correct = u.Checksum; break;
            default: throw new InvalidOperationException("not TCP/UDP");
        }
        ushort diff = OnesAdd(seen, (ushort)~correct);
        return diff == 0xFFFF ? 0 : diff;
    }

    /// <summary>The frame with its destination set to a service VIP and port, checksums recomputed; null if not IPv4 TCP/UDP.</summary>
    static byte[]? Retarget(byte[] frame)
    {
        var eth = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, (byte[])frame.Clone());
        if (eth.PayloadPacket is not IPv4Packet ip) return null;
        if ((ip.FragmentFlags & 0x1) != 0 || ip.FragmentOffset != 0) return null;  // fragments: not translated by design
        switch (ip.PayloadPacket)
        {
            case TcpPacket tcp:
                ip.DestinationAddress = new IPAddress(new byte[] { 10, 96, 0, 10 });
                tcp.DestinationPort = TcpVipPort;
                ip.UpdateIPChecksum();
                tcp.UpdateTcpChecksum();
                break;
            case UdpPacket udp:
                ip.DestinationAddress = new IPAddress(new byte[] { 10, 96, 0, 53 });
                udp.DestinationPort = UdpVipPort;
                ip.UpdateIPChecksum();
                if (udp.Checksum != 0) udp.UpdateUdpChecksum();
                break;
            default:
                return null;
        }
        byte[] bytes = eth.Bytes;
        // PacketDotNet must not have re-laid the frame out (trailers, lengths): only the retargeted fields may differ.
        if (bytes.Length != frame.Length) return null;
        return ChecksumsValid(bytes) ? bytes : null;
    }

    // ---------------------------------------------------------------------------------------------------------------

    static readonly Lazy<byte[][][]> s_caseFrames = new(() =>
        Directory.GetDirectories(Repo.Cases).Order(StringComparer.Ordinal)
            .Select(d => ReadAll(Path.Combine(d, "input.pcap")).Frames.Select(f => f.Data).ToArray())
            .Where(fs => fs.Length > 0)
            .ToArray());

    /// <summary>One mutation of a frame: flip bits in a byte, overwrite a byte, cut the frame, or pad it.</summary>
    enum Op { Flip, Set, Truncate, Pad }

    static readonly Gen<(Op Op, int Pos, byte Value)> GenMutation =
        Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1 << 16], Gen.Byte[1, 255]);

    static byte[] Mutate(byte[] frame, (Op Op, int Pos, byte Value)[] mutations)
    {
        byte[] f = (byte[])frame.Clone();
        foreach (var (op, pos, value) in mutations)
        {
            switch (op)
            {
                case Op.Flip when f.Length > 0: f[pos % f.Length] ^= value; break;
                case Op.Set when f.Length > 0: f[pos % f.Length] = value; break;
                case Op.Truncate: f = f[..(pos % (f.Length + 1))]; break;
                case Op.Pad: f = [.. f, .. Enumerable.Repeat(value, pos % 64)]; break;
            }
        }
        return f;
    }

    [Fact]
    public void Randomly_mutated_regression_frames_never_throw_and_always_get_a_final_verdict()
    {
        byte[][][] cases = s_caseFrames.Value;
        Assert.NotEmpty(cases);
        // A case, then for each of its frames: no mutation (half the time) or a few. Frames are run in order through a
        // fresh pipeline so mutated replies meet real conntrack entries.
        var gen = Gen.Int[0, cases.Length - 1].SelectMany(c =>
            Gen.Bool.SelectMany(keep => keep ? Gen.Const(Array.Empty<(Op, int, byte)>()) : GenMutation.Array[1, 4])
               .Array[cases[c].Length]
               .Select(m => (Case: c, Mutations: m)));

        gen.Sample(t =>
        {
            var pipeline = NewPipeline();
            byte[][] frames = cases[t.Case];
            long now = 1_000_000_000;
            for (int i = 0; i < frames.Length; i++)
            {
                byte[] f = Mutate(frames[i], t.Mutations[i]);
                byte[] buf = (byte[])f.Clone();
                byte[] reply = new byte[2048];
                Verdict v;
                PacketResult r;
                try
                {
                    v = pipeline.Process(buf, now += 1_000_000, reply, out r);
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"case {t.Case} frame {i + 1}: {e.GetType().Name}: {e.Message}\n frame {Convert.ToHexString(f)}\n{e.StackTrace}");
                }
                Assert.True(v != Verdict.Continue, $"case {t.Case} frame {i + 1}: verdict Continue for {Convert.ToHexString(f)}");
                Assert.Equal(v, r.Verdict);
                if (v == Verdict.Drop)
                    Assert.True(r.Reason != DropReason.None, $"case {t.Case} frame {i + 1}: drop without a reason for {Convert.ToHexString(f)}");
                if (v == Verdict.Forward)
                    Assert.True(r.OutLength > 0 && r.OutLength <= buf.Length, $"case {t.Case} frame {i + 1}: forward with OutLength {r.OutLength} of {buf.Length}");
                if (v == Verdict.Reject && r.HasOut)
                    Assert.True(r.OutLength > 0 && r.OutLength <= reply.Length, $"case {t.Case} frame {i + 1}: reject with OutLength {r.OutLength}");
            }
        }, iter: 3000, threads: 1);
    }

    [Fact]
    public void Every_truncation_of_every_regression_frame_gets_a_final_verdict()
    {
        // Exhaustive over cut points: every prefix of every frame, each through a pipeline that saw the case's earlier
        // frames intact (so reply-direction prefixes hit conntrack).
        foreach (byte[][] frames in s_caseFrames.Value)
        {
            for (int i = 0; i < frames.Length; i++)
            {
                for (int len = 0; len <= frames[i].Length; len++)
                {
                    var p = NewPipeline();
                    for (int j = 0; j < i; j++) TestWorld.Run(p, frames[j]);
                    var (v, r, _) = TestWorld.Run(p, frames[i][..len]);
                    Assert.True(v != Verdict.Continue, $"frame {i + 1} cut to {len}: Continue");
                    if (v == Verdict.Drop) Assert.True(r.Reason != DropReason.None, $"frame {i + 1} cut to {len}: drop without a reason");
                    if (len < frames[i].Length && len >= 14 + 20)
                        Assert.True(v is Verdict.Drop or Verdict.Pass, $"frame {i + 1} cut to {len} of {frames[i].Length}: {v}");
                }
            }
        }
    }
}
