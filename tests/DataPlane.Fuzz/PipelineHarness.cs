using System.Buffers.Binary;
using DataPlane.Kubernetes;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.Fuzz;

/// <summary>
/// The whole packet path of node-1 of a realistic cluster (the bundled pcaps/cluster: ClusterIP, NodePort, DNS,
/// session affinity, local traffic policy) on fresh, small tables per input, so every input is replayed from the same
/// state (AFL needs a crash to reproduce from its input alone). Beyond "never throws" it checks what must hold for
/// any frame: the pipeline reports an output length that fits its buffer, and every IPv4 packet it forwards or
/// generates carries a valid header checksum (RFC 791; the kernel's ip_rcv drops anything else).
/// </summary>
public sealed class PipelineHarness
{
    readonly MapSetHolder _maps;
    readonly byte[] _frame = new byte[FrameRecords.MaxFrame];
    readonly byte[] _reply = new byte[2048];

    public PipelineHarness(string clusterPath, string node = "node-1")
    {
        _maps = new MapSetHolder(ControlPlane.LoadAndCompile(clusterPath, node));
    }

    public int Run(ReadOnlySpan<byte> input)
    {
        var pipeline = new PacketPipeline(_maps, new PipelineOptions { CtCapacity = 256, FragmentCapacity = 64, Seed = 7 });
        return FrameRecords.ForEach(input, _frame, (frame, now) =>
        {
            Verdict v = pipeline.Process(frame, now, _reply, out int outLength);
            if (v == Verdict.Forward)
            {
                if (outLength < 0 || outLength > frame.Length) throw new InvalidDataException($"forward length {outLength} of a {frame.Length}-byte frame");
                CheckIpv4(frame[..outLength], "forwarded");
            }
            else if (v == Verdict.Reject && outLength > 0)
            {
                if (outLength > _reply.Length) throw new InvalidDataException($"reply length {outLength}");
                CheckIpv4(_reply.AsSpan(0, outLength), "generated");
            }
        });
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
