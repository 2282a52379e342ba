using System.Buffers.Binary;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.Fuzz;

/// <summary>
/// The whole packet path of node-1 of a realistic cluster (the bundled pcaps/cluster: ClusterIP, NodePort, DNS,
/// session affinity, local traffic policy) on fresh, small tables per input, so every input is replayed from the same
/// state (AFL needs a crash to reproduce from its input alone). Fragments pass the node's fragment hold first, as in
/// replay and live mode (held, released after their first fragment, reassembled when a DNS query). Beyond "never throws" it checks what must hold for
/// any frame: the pipeline reports an output length that fits its buffer, and every IPv4 packet it forwards or
/// generates carries a valid header checksum (RFC 791; the kernel's ip_rcv drops anything else), every DNS answer
/// valid TCP/UDP checksums too, and the fragment hold gives back every slot once the input ends.
/// <para>
/// The DNS stage: the bundled cluster's emulated kube-dns (10.96.0.2) has no CoreDNS endpoints, so the default maps
/// answer it (auto mode); kube-system/dns (10.96.0.53, where the repository's DNS captures send their queries) has
/// endpoints and is DNATed. Inputs whose first record's clock step is odd run against a second compile of the same
/// cluster with <c>--cluster-dns 10.96.0.53</c> (answer mode), so those captures, the TCP conversations of
/// <see cref="DnsSeeds"/> and the fragmented queries of the seeds reach the DNS stage too; the step still moves the
/// clock as for every other input.
/// </para>
/// </summary>
public sealed class PipelineHarness
{
    /// <summary>The pipeline's seed: SYN cookies depend on it (<see cref="DnsSeeds"/> computes the same ISNs).</summary>
    public const ulong Seed = 7;

    readonly MapSetHolder _maps, _answering;
    readonly byte[] _frame = new byte[FrameRecords.MaxFrame];
    readonly byte[] _reply = new byte[2048];

    public PipelineHarness(string clusterPath, string node = "node-1")
    {
        _maps = new MapSetHolder(ControlPlane.LoadAndCompile(clusterPath, node));
        _answering = new MapSetHolder(ControlPlane.LoadAndCompile(clusterPath, node,
            new DataPlane.Kubernetes.Compiler.CompileOptions { Dns = new DataPlane.Kubernetes.Compiler.DnsOptions { ClusterDns = 0x0A600035 } }));
    }

    /// <summary>DNS answers produced so far (the <c>check</c> command reports it: seeds that stop reaching the stage show).</summary>
    public long Answers { get; private set; }

    public int Run(ReadOnlySpan<byte> input)
    {
        // A node of one worker, as the live session runs it: fragments through the node's fragment hold first (a
        // small one, so a few records fill it), then whatever it lets run, in order.
        MapSetHolder maps = input.Length >= 3 && (input[2] & 1) != 0 ? _answering : _maps;
        using var node = new WorkerSet(maps, new PipelineOptions { CtCapacity = 256, FragmentCapacity = 64, FragmentHoldBytes = 16 * FragmentHold.SlotSize, Seed = Seed });
        PacketPipeline pipeline = node[0];
        FragmentHold hold = node.Defrag;
        int n = FrameRecords.ForEach(input, _frame, (frame, now) =>
        {
            if (!FragmentHold.MaybeFragment(frame))
            {
                Process(pipeline, frame, now);
                return;
            }
            switch (hold.Offer(frame, FrameKey.Read(frame), now, 0, maps.Current))
            {
                case FragmentAction.Process:
                    Process(pipeline, frame, now);
                    break;
                case FragmentAction.Release:
                    Process(pipeline, frame, now);
                    for (int r = 0; r < hold.ReleasedCount; r++) Process(pipeline, hold.Released(r, out _), now);
                    hold.EndRelease();
                    break;
                case FragmentAction.Reassemble:
                    Span<byte> whole = hold.Reassembled;
                    // A reassembled datagram has a valid header and says its whole length.
                    CheckIpv4(whole, "reassembled");
                    Process(pipeline, whole, now);
                    hold.EndRelease();
                    break;
            }
            if (hold.HeldFrames > hold.SlotCount || hold.HeldFrames < 0) throw new InvalidDataException($"hold counts {hold.HeldFrames} of {hold.SlotCount} frames");
        });
        // The end of the input: nothing held may outlive its datagrams (every slot and record comes back).
        hold.ExpireAll();
        if (hold.HeldFrames != 0 || hold.Datagrams != 0) throw new InvalidDataException($"hold keeps {hold.HeldFrames} frames of {hold.Datagrams} datagrams after expiring all");
        return n;
    }

    void Process(PacketPipeline pipeline, Span<byte> frame, long now)
    {
        Verdict v = pipeline.Process(frame, now, _reply, out int outLength);
        if (v == Verdict.Forward)
        {
            if (outLength < 0 || outLength > frame.Length) throw new InvalidDataException($"forward length {outLength} of a {frame.Length}-byte frame");
            CheckIpv4(frame[..outLength], "forwarded");
        }
        else if (v is Verdict.Reject or Verdict.Answer && outLength > 0)
        {
            if (outLength > _reply.Length) throw new InvalidDataException($"reply length {outLength}");
            CheckIpv4(_reply.AsSpan(0, outLength), "generated");
            if (v == Verdict.Answer)
            {
                Answers++;
                CheckL4(_reply.AsSpan(0, outLength));
            }
        }
    }

    /// <summary>A DNS answer's UDP or TCP checksum over the pseudo-header must verify (the client's stack drops it otherwise).</summary>
    static void CheckL4(ReadOnlySpan<byte> eth)
    {
        if (eth.Length < 14 + 20 || BinaryPrimitives.ReadUInt16BigEndian(eth[12..]) != 0x0800) return;
        ReadOnlySpan<byte> ip = eth[14..];
        int ihl = (ip[0] & 0x0f) * 4, total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (total > ip.Length || total < ihl) throw new InvalidDataException("DNS answer with a bad IPv4 total length");
        byte proto = ip[9];
        if (proto is not (6 or 17)) throw new InvalidDataException($"DNS answer of protocol {proto}");
        ReadOnlySpan<byte> l4 = ip[ihl..total];
        uint sum = (uint)(BinaryPrimitives.ReadUInt16BigEndian(ip[12..]) + BinaryPrimitives.ReadUInt16BigEndian(ip[14..])
                   + BinaryPrimitives.ReadUInt16BigEndian(ip[16..]) + BinaryPrimitives.ReadUInt16BigEndian(ip[18..]) + proto + l4.Length);
        for (int i = 0; i + 1 < l4.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(l4[i..]);
        if ((l4.Length & 1) != 0) sum += (uint)l4[^1] << 8;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        if (sum != 0xffff) throw new InvalidDataException("DNS answer with a bad L4 checksum");
    }

    /// <summary>An untagged IPv4 packet in an Ethernet frame must have a header whose one's-complement sum is 0xffff.</summary>
    static void CheckIpv4(ReadOnlySpan<byte> eth, string what)
    {
        if (eth.Length < 14 + 20 || BinaryPrimitives.ReadUInt16BigEndian(eth[12..]) != 0x0800) return;
        ReadOnlySpan<byte> ip = eth[14..];
        int ihl = (ip[0] & 0x0f) * 4;
        if (ip[0] >> 4 != 4 || ihl < 20 || ihl > ip.Length) return;
        uint sum = 0;
        for (int i = 0; i < ihl; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        if (sum != 0xffff) throw new InvalidDataException($"{what} IPv4 packet with a bad header checksum");
    }
}
