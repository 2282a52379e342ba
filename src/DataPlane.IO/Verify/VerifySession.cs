using System.Diagnostics;
using DataPlane.IO.Pcap;
using DataPlane.IO.Replay;
using DataPlane.IO.Report;
using DataPlane.Kubernetes.Inventory;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Verify;

/// <summary>
/// <c>dataplane verify</c>: checks a node's own capture against the Service semantics. Two passes:
/// <list type="number">
/// <item><see cref="CaptureIndex"/> reads every frame, tells the frames that entered the node from those it sent, and
/// collects what the capture shows each new connection reached (backend, masquerade source);</item>
/// <item>the frames that entered run through the pipeline as a replay runs them (link layer, fragment hold, batches),
/// following the capture where the semantics allow several outcomes (<see cref="BackendHints"/>); for each, what the
/// pipeline decided is compared with what the node sent: the translated copy (found by its signature), the generated
/// reply (by its reply key), or nothing.</item>
/// </list>
/// Every fact a divergence states comes from the pipeline's result for that frame and the resolved cluster the maps
/// were compiled from; nothing is worked out again here.
/// </summary>
public static class VerifySession
{
    /// <param name="report">With <c>--report</c>: fed every received frame's result and the tables' occupancy, as a replay feeds it.</param>
    public static VerifyReport Run(IReadOnlyList<string> captures, WorkerSet workers, ResolvedCluster cluster, string nodeName,
        ReplayProgress? progress = null, ReplayReport? report = null)
    {
        var clock = Stopwatch.StartNew();
        CaptureIndex index;
        // Two passes over the file: the progress line names which one it follows.
        string label = progress?.Label ?? "verify";
        if (progress is not null) progress.Label = $"{label} 1/2";
        try
        {
            index = CaptureIndex.Build(captures, progress);
        }
        finally
        {
            progress?.Done();
        }
        if (progress is not null) progress.Label = $"{label} 2/2";
        BackendHints hints = index.Hints(workers.Maps);
        if (report is not null)
        {
            report.BackendsFollowed = true;
            if (index.Frames.Count > 0) report.Start(index.Frames[0].TimestampNs);
        }
        foreach (PacketPipeline p in workers.Pipelines) p.State.Hints = hints;
        var check = new Verifier(index, cluster, nodeName);
        try
        {
            using var capture = new MergedCapture(captures);
            var batch = new ReplayBatch(workers);
            long n = 0, lastNs = 0, dropped = 0;
            void Flush()
            {
                if (batch.Count == 0) return;
                batch.Process(workers);
                MapSet maps = workers.Maps;
                for (int i = 0; i < batch.Count; i++)
                {
                    report?.Frame(batch.FrameNumber(i), batch.TimestampNs(i), in batch.Result(i), maps, batch.InputLength(i));
                    check.Check(batch, i, maps);
                    if (batch.Result(i).Verdict == Verdict.Drop) dropped++;
                }
                batch.Clear();
                progress?.Batch(n, capture.BytesRead, capture.FileLength, dropped);
            }
            var scratch = new byte[CaptureReader.MaxRecordLength + LinkLayer.MaxGrowth];
            // Up to the frames the index read: a corrupt record after them ended the capture there.
            while (n < index.Frames.Count && capture.TryRead(out ReadOnlySpan<byte> data, out long ts, out LinkType link, out int wire))
            {
                n++;
                lastNs = ts;
                if (index[n].Role != FrameRole.Received) continue;
                // Frame by frame: what the node did with one packet (a translation other than ours) decides how the
                // next packets of its connection are read (check.Alias), so each is compared before the next runs.
                LinkLayer.ToEthernet(link, data, scratch, out int length);
                Span<byte> frame = scratch.AsSpan(0, length);
                check.Alias(frame);
                if (report is not null && report.NeedsSampleBefore(ts)) report.Sample(ts, workers.Pipelines);
                batch.Add(LinkType.Ethernet, frame, ts, n, workers, wire + length - data.Length);
                Flush();
            }
            Flush();
            batch.ExpireHeld(lastNs, workers);
            Flush();
            progress?.Batch(n, capture.BytesRead, capture.FileLength, dropped); // the frames after the last received one
            report?.Sample(lastNs, workers.Pipelines, last: true);
        }
        finally
        {
            progress?.Done();
            foreach (PacketPipeline p in workers.Pipelines) p.State.Hints = null;
        }
        VerifyReport result = check.Finish();
        result.Elapsed = clock.Elapsed;
        result.Error = index.Error;
        return result;
    }

    /// <summary>The report's rows: the same connections the listing and the JSON give.</summary>
    public static IReadOnlyList<ReportConnection> ReportRows(VerifyReport r) =>
        [.. r.Connections.Select(c => new ReportConnection(c.Proto, c.Src, c.Dst, c.Service, c.Status, c.Frames,
            [.. c.Diffs.Select(d => new ReportDiff(d.Frame, d.Field, d.Expected, d.Seen, d.Why))], c.Why))];

    /// <summary>The second pass's comparisons, frame by frame, into connections.</summary>
    sealed class Verifier(CaptureIndex index, ResolvedCluster cluster, string nodeName)
    {
        readonly Dictionary<(byte, uint, ushort, uint, ushort), VerifyConnection> _byTuple = [];
        readonly HashSet<VerifyConnection> _opened = [];
        readonly VerifyReport _report = new();
        readonly List<long> _copies = [];
        /// <summary>
        /// Replies addressed as the node translated a connection, by (proto, source, port, destination, port), and the
        /// addresses the pipeline's own translation gives them: where the node diverged (another backend, another source),
        /// its connection's later packets are read as the pipeline's, so one divergence is reported once where it
        /// happened, not again on every packet after it.
        /// </summary>
        readonly Dictionary<(byte, uint, ushort, uint, ushort), (uint Src, ushort SrcPort, uint Dst, ushort DstPort)> _aliases = [];

        /// <summary>Rewrites a received reply of a diverged connection to the addresses the pipeline expects (checksums updated incrementally).</summary>
        public void Alias(Span<byte> frame)
        {
            if (_aliases.Count == 0) return;
            FrameKey k = FrameKey.Read(frame);
            if (!k.HasPorts || k.Proto == IpProto.Sctp || !_aliases.TryGetValue((k.Proto, k.Src, k.SrcPort, k.Dst, k.DstPort), out var to)) return;
            Span<byte> ip = frame[k.L3Offset..];
            Span<byte> l4 = frame[k.L4Offset..];
            uint addrDiff = Checksum.Diff32(k.Src, to.Src) + Checksum.Diff32(k.Dst, to.Dst);
            uint portDiff = Checksum.Diff16(k.SrcPort, to.SrcPort) + Checksum.Diff16(k.DstPort, to.DstPort);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ip[Ipv4Header.SrcOffset..], to.Src);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ip[Ipv4Header.DstOffset..], to.Dst);
            ushort ipSum = L4.ReadU16(ip, Ipv4Header.ChecksumOffset);
            L4.WriteU16(ip, Ipv4Header.ChecksumOffset, Checksum.Apply(ipSum, addrDiff));
            L4.WriteU16(l4, L4.SrcPortOffset, to.SrcPort);
            L4.WriteU16(l4, L4.DstPortOffset, to.DstPort);
            int at = L4.ChecksumOffset(k.Proto);
            if (at < 0 || l4.Length < at + 2) return;
            ushort sum = L4.ReadU16(l4, at);
            L4.WriteU16(l4, at, k.Proto == IpProto.Udp ? Checksum.ApplyUdp(sum, addrDiff + portDiff) : Checksum.Apply(sum, addrDiff + portDiff));
        }

        public VerifyReport Finish()
        {
            foreach (VerifyConnection c in _report.Connections)
            {
                c.Frames.AddRange([.. c.Frames.SelectMany(index.DuplicatesOf)]);
                c.Frames.Sort();
                if (c.Incomplete is null && !index.HasSent)
                    c.Incomplete = "the capture holds no frame the node sent (capture on the node with tcpdump -i any, or give every interface's capture)";
            }
            long sentMatched = 0;
            for (long f = 1; f <= index.Frames.Count; f++)
                if (index[f].Role == FrameRole.Sent && index.IsConsumed(f)) sentMatched++;
            _report.Frames = index.Frames.Count;
            _report.Received = index.Received;
            _report.Sent = index.Sent;
            _report.Duplicates = index.Duplicates;
            _report.Other = index.Other;
            _report.NodeOwn = index.Sent - sentMatched;
            return _report;
        }

        public void Check(ReplayBatch batch, int i, MapSet maps)
        {
            ref readonly PacketResult r = ref batch.Result(i);
            if (r.Verdict == Verdict.Reassembled) return;
            long n = batch.FrameNumber(i);
            FrameFacts inF = index[n];
            VerifyConnection c = Connection(in r, in inF, maps);
            c.Frames.Add(n);
            if (c.Frames.Count == 1 && inF.Proto == IpProto.Tcp && (inF.TcpFlags & L4.TcpSyn) == 0 && (inF.Flags & FactFlags.Fragment) == 0)
                c.Incomplete = $"the capture starts after the connection opened (its first frame, {n}, is no SYN), so what the node decided for it is not in the capture";
            if ((inF.Flags & FactFlags.Fragment) != 0)
            {
                c.Incomplete ??= $"frame {n} is a fragment; fragmented datagrams are not compared yet";
                return;
            }
            switch (r.Verdict)
            {
                case Verdict.Forward:
                    Forwarded(c, batch, i, in r, in inF, n, maps);
                    break;
                case Verdict.Reject or Verdict.Answer:
                    Replied(c, batch, i, in r, in inF, n, maps);
                    break;
                default:
                    NotForwarded(c, in r, in inF, n, maps);
                    break;
            }
        }

        VerifyConnection Connection(in PacketResult r, in FrameFacts f, MapSet maps)
        {
            // A reply the pipeline translated back belongs to the connection its client opened: the output's
            // destination is the client, its source the address the client sent to.
            var key = r.HasTuple && r.Verdict == Verdict.Forward && r.Direction == CtDirection.Reply && r.HasOut
                ? (r.Proto, r.OutDstIp, r.OutDstPort, r.OutSrcIp, r.OutSrcPort)
                : (f.Proto, f.Src, f.SrcPort, f.Dst, f.DstPort);
            if (!_byTuple.TryGetValue(key, out VerifyConnection? c) &&
                !_byTuple.TryGetValue((key.Item1, key.Item4, key.Item5, key.Item2, key.Item3), out c))
            {
                bool ports = f.HasPorts;
                c = new VerifyConnection
                {
                    Proto = IpProto.Name(key.Item1),
                    Src = ports ? Ip4.Format(key.Item2, key.Item3) : Ip4.Format(key.Item2),
                    Dst = ports ? Ip4.Format(key.Item4, key.Item5) : Ip4.Format(key.Item4),
                };
                _byTuple[key] = c;
                _report.Connections.Add(c);
            }
            if (c.Service is null && r.RevNatIndex != 0) c.Service = maps.ServiceName(r.RevNatIndex);
            return c;
        }

        /// <summary>The pipeline forwards the packet: the node must have sent it on, translated the same way.</summary>
        void Forwarded(VerifyConnection c, ReplayBatch batch, int i, in PacketResult r, in FrameFacts inF, long n, MapSet maps)
        {
            if (!batch.TryGetOutput(i, out ReadOnlySpan<byte> output, out _) || !FrameFacts.TryRead(output, inF.TimestampNs, out FrameFacts expect))
                return;
            long s = index.FindCopy(inF.Signature, inF.TimestampNs);
            if (s == 0)
            {
                if (index.HasSent)
                    c.Diffs.Add(new VerifyDiff(n, "sent", $"forwarded to {expect.DstText}", "never sent",
                        $"the data plane forwards frame {n} to {expect.DstText}{Because(in r, maps)}; the capture holds no copy of it the node sent"));
                return;
            }
            Matched(c, s);
            FrameFacts seen = index[s];
            bool reply = r.Direction == CtDirection.Reply && r.FlowId != 0;

            if (seen.Dst != expect.Dst || seen.DstPort != expect.DstPort)
            {
                if (reply)
                    c.Diffs.Add(new VerifyDiff(s, "dst", expect.DstText, seen.DstText,
                        $"the reply to {expect.DstText} left for {seen.DstText}: the reverse translation must restore the client's address"));
                else
                    c.Diffs.Add(Backend(in r, in inF, in expect, in seen, s, maps));
            }
            else if (r.NewFlow && r.HasFrontend)
                c.Notes.Add(r.SlotCount > 1
                    ? $"backend {expect.DstText} followed from the capture (one of {r.SlotCount} usable endpoints: {Usable(in r, maps)})"
                    : $"backend {expect.DstText}, its only usable endpoint");

            if (seen.Src != expect.Src || seen.SrcPort != expect.SrcPort)
            {
                if (reply && seen.Src == inF.Src && seen.SrcPort == inF.SrcPort)
                    c.Diffs.Add(new VerifyDiff(s, "reverse-nat", expect.SrcText, seen.SrcText,
                        $"the reply left with the backend's address {seen.SrcText} as its source; the client sent to {expect.SrcText}, so conntrack's reverse NAT should have put that back"));
                else if (!reply && r.Masqueraded && seen.Src == expect.Src && SameClass(seen.SrcPort, inF.SrcPort))
                    c.Notes.Add($"masquerade port {seen.SrcPort} allowed (MASQUERADE picks any free port of the client port's class)");
                else
                    c.Diffs.Add(Source(in r, in inF, in expect, in seen, s, maps));
            }
            else if (!reply && r.NewFlow && r.HasFrontend)
                c.Notes.Add(!r.Masqueraded ? "client address kept"
                    : expect.SrcPort != inF.SrcPort ? $"masqueraded to {expect.SrcText} (port followed from the capture: MASQUERADE may take any free port of the client port's class)"
                    : $"masqueraded to {expect.SrcText}");

            if (seen.Ttl != expect.Ttl)
                c.Diffs.Add(new VerifyDiff(s, "ttl", expect.Ttl.ToString(), seen.Ttl.ToString(),
                    seen.Ttl >= inF.Ttl
                        ? $"the node forwarded frame {n} with TTL {seen.Ttl} without decrementing it (it arrived with {inF.Ttl}; a router forwards with TTL − 1, RFC 1812 5.3.1)"
                        : $"the node sent frame {n} on with TTL {seen.Ttl}; it arrived with {inF.Ttl}, so forwarding leaves {expect.Ttl}"));
            if (!reply && seen.HasPorts && seen.Proto != IpProto.Sctp && (seen.Src, seen.SrcPort, seen.Dst, seen.DstPort) != (expect.Src, expect.SrcPort, expect.Dst, expect.DstPort))
                _aliases[(seen.Proto, seen.Dst, seen.DstPort, seen.Src, seen.SrcPort)] = (expect.Dst, expect.DstPort, expect.Src, expect.SrcPort);
            Checksums(c, in inF, in seen, n, s);
            if (expect.Proto == IpProto.Icmp && (seen.IcmpType != expect.IcmpType || seen.IcmpCode != expect.IcmpCode))
                c.Diffs.Add(new VerifyDiff(s, "icmp", StageRecordNames.Icmp(expect.IcmpType, expect.IcmpCode), StageRecordNames.Icmp(seen.IcmpType, seen.IcmpCode),
                    $"the node changed the ICMP message of frame {n}"));
        }

        /// <summary>The pipeline rejects the packet or answers it itself: the node must have sent that reply.</summary>
        void Replied(VerifyConnection c, ReplayBatch batch, int i, in PacketResult r, in FrameFacts inF, long n, MapSet maps)
        {
            if (!batch.TryGetOutput(i, out ReadOnlySpan<byte> output, out _) || !FrameFacts.TryRead(output, inF.TimestampNs, out FrameFacts expect))
                return;
            string what = r.Verdict == Verdict.Answer ? "answered as the cluster DNS"
                : expect.Proto == IpProto.Icmp ? $"rejected ({StageRecordNames.Icmp(expect.IcmpType, expect.IcmpCode)})" : "rejected (TCP reset)";
            long s = expect.ReplyKey == 0 ? 0 : index.FindReply(expect.ReplyKey, inF.TimestampNs);
            if (s != 0)
            {
                Matched(c, s);
                FrameFacts seen = index[s];
                if (expect.Proto == IpProto.Icmp && (seen.IcmpType != expect.IcmpType || seen.IcmpCode != expect.IcmpCode))
                    c.Diffs.Add(new VerifyDiff(s, "icmp", StageRecordNames.Icmp(expect.IcmpType, expect.IcmpCode), StageRecordNames.Icmp(seen.IcmpType, seen.IcmpCode),
                        $"frame {n} is {what}{Because(in r, maps)}; the node's reply is another message"));
                Checksums(c, in inF, in seen, n, s);
                if (c.Notes.Count == 0) c.Notes.Add($"{what}{Because(in r, maps)}, as the node did");
                return;
            }
            long copy = index.FindCopy(inF.Signature, inF.TimestampNs);
            if (copy != 0)
            {
                Matched(c, copy);
                FrameFacts seen = index[copy];
                // kube-proxy sends a DNS query to a CoreDNS endpoint where DataPlane answers as the cluster DNS: both
                // serve the name; what the node did is what a kube-proxy node does.
                if (r.Verdict == Verdict.Answer)
                {
                    c.Notes.Add($"the node sent the query on to {seen.DstText} (kube-proxy's DNAT to a DNS endpoint) where the data plane answers it itself");
                    return;
                }
                c.Diffs.Add(new VerifyDiff(copy, "verdict", what, $"forwarded to {seen.DstText}",
                    $"frame {n} is {what}{Because(in r, maps)}; the node sent it on to {seen.DstText}"));
                return;
            }
            if (index.HasSent)
                c.Diffs.Add(new VerifyDiff(n, "verdict", what, "no reply sent",
                    $"frame {n} is {what}{Because(in r, maps)}; the capture holds no reply from the node"));
        }

        /// <summary>Passed to the host, dropped, or answered by the node's own stack: the node must not have translated it.</summary>
        void NotForwarded(VerifyConnection c, in PacketResult r, in FrameFacts inF, long n, MapSet maps)
        {
            long s = index.FindCopy(inF.Signature, inF.TimestampNs);
            if (s == 0) return;
            Matched(c, s);
            FrameFacts seen = index[s];
            bool translated = seen.Src != inF.Src || seen.Dst != inF.Dst || seen.SrcPort != inF.SrcPort || seen.DstPort != inF.DstPort;
            switch (r.Verdict)
            {
                case Verdict.Pass when !translated:
                    if (seen.Ttl >= inF.Ttl && seen.Ttl != 0 && inF.Ttl > 1 && IsRouted(in inF, maps))
                        c.Diffs.Add(new VerifyDiff(s, "ttl", (inF.Ttl - 1).ToString(), seen.Ttl.ToString(),
                            $"the node forwarded frame {n} with TTL {seen.Ttl} without decrementing it (RFC 1812 5.3.1)"));
                    return; // routed on untouched: not a service's packet, as the pipeline says
                case Verdict.Pass or Verdict.Local:
                    c.Diffs.Add(new VerifyDiff(s, "verdict", r.Verdict == Verdict.Pass ? "passed on untranslated" : "answered by the node",
                        $"sent translated to {seen.DstText} from {seen.SrcText}",
                        $"frame {n} ({inF.SrcText} → {inF.DstText}) is no service's packet to the data plane; the node translated it"));
                    return;
                default:
                    string why = r.Reason == DropReason.TtlExceeded
                        ? $"the node forwarded a packet with TTL {inF.Ttl} (frame {n}); forwarding must drop it and answer ICMP time exceeded"
                        : $"the data plane drops frame {n} ({r.Reason.Name()}); the node sent it on to {seen.DstText}";
                    c.Diffs.Add(new VerifyDiff(s, "verdict", $"dropped ({r.Reason.Name()})", $"forwarded to {seen.DstText}", why));
                    return;
            }
        }

        /// <summary>A packet the node routes (not to or from the node itself): its TTL must go down.</summary>
        static bool IsRouted(in FrameFacts f, MapSet maps) => !maps.Node.IsNodeAddress(f.Dst) && !maps.Node.IsNodeAddress(f.Src);

        static void Checksums(VerifyConnection c, in FrameFacts inF, in FrameFacts seen, long n, long s)
        {
            if ((seen.Flags & FactFlags.IpChecksumOk) == 0)
                c.Diffs.Add(new VerifyDiff(s, "checksum", "valid IPv4 header checksum", "bad IPv4 header checksum",
                    $"the node sent frame {s} (frame {n} forwarded) with a bad IPv4 header checksum"));
            // Only where the packet that came in had a valid one: a checksum left to offload (CHECKSUM_PARTIAL, which
            // a capture on the sending side shows unfinished) stays unfinished through the node, and that is not the node's doing.
            else if ((seen.Flags & FactFlags.L4ChecksumKnown) != 0 && (seen.Flags & FactFlags.L4ChecksumOk) == 0 &&
                     (inF.Flags & (FactFlags.L4ChecksumKnown | FactFlags.L4ChecksumOk)) == (FactFlags.L4ChecksumKnown | FactFlags.L4ChecksumOk))
                c.Diffs.Add(new VerifyDiff(s, "checksum", $"valid {IpProto.Name(seen.Proto)} checksum", $"bad {IpProto.Name(seen.Proto)} checksum 0x{seen.L4Checksum:x4}",
                    $"the node sent frame {s} with a bad {IpProto.Name(seen.Proto).ToUpperInvariant()} checksum; the packet it came from (frame {n}) had a valid one"));
        }

        void Matched(VerifyConnection c, long s)
        {
            _copies.Clear();
            index.Consume(s, _copies);
            c.Frames.Add(s);
            c.Frames.AddRange(_copies);
        }

        /// <summary>
        /// The node sent a new connection to another destination than the pipeline: that backend is not one the
        /// Service semantics allow here (the pipeline follows any usable one), or the node did not translate.
        /// </summary>
        VerifyDiff Backend(in PacketResult r, in FrameFacts inF, in FrameFacts expect, in FrameFacts seen, long s, MapSet maps)
        {
            string? name = maps.ServiceName(r.RevNatIndex);
            // A new connection may go to any usable endpoint; a later packet goes where its connection went.
            string expected = r.NewFlow && r.HasFrontend ? $"one of {Usable(in r, maps)}" : expect.DstText;
            if (seen.Dst == inF.Dst && seen.DstPort == inF.DstPort)
                return new VerifyDiff(s, "dst", expected, seen.DstText,
                    $"{inF.DstText} is {name ?? "a service"}'s frontend; the node sent the packet on to it untranslated");
            if (name is null || cluster.ServicePort(name) is not var (svc, _))
                return new VerifyDiff(s, "dst", expected, seen.DstText, $"the node sent the connection to {seen.DstText}, no endpoint of the service");
            string ip = Ip4.Format(seen.Dst);
            ushort port = seen.DstPort;
            var rows = cluster.Endpoints(svc).Where(e => e.IP == ip && (e.Port is null || e.Port == port)).ToList();
            if (rows.Count == 0)
                return new VerifyDiff(s, "dst", expected, seen.DstText,
                    $"the node sent the connection to {seen.DstText}, which is no endpoint of {svc.Key} ({cluster.Endpoints(svc).Count} listed)");
            EndpointEntry e = rows[0];
            bool external = (r.ServiceFlags & ServiceFlags.External) != 0 && r.Scope == 0;
            TrafficPolicy policy = external ? svc.ExternalTrafficPolicy : svc.InternalTrafficPolicy;
            string condition = !e.Ready && e.Terminating ? (e.Serving ? "terminating, while ready endpoints exist" : "terminating and not serving")
                : !e.Ready ? "not ready"
                : policy == TrafficPolicy.Local && e.Node is { } node && node != nodeName
                    ? $"on {node}, and {(external ? "externalTrafficPolicy" : "internalTrafficPolicy")} is Local"
                : "not among the endpoints the data plane may pick here";
            return new VerifyDiff(s, "backend", expected, seen.DstText,
                $"backend {seen.DstText} is not a usable endpoint of {svc.Key} ({condition})");
        }

        /// <summary>The node sent the packet from another source than the Service semantics call for.</summary>
        VerifyDiff Source(in PacketResult r, in FrameFacts inF, in FrameFacts expect, in FrameFacts seen, long s, MapSet maps)
        {
            string? name = maps.ServiceName(r.RevNatIndex);
            var sp = name is null ? null : cluster.ServicePort(name);
            if (!r.Masqueraded && seen.Src != inF.Src)
            {
                bool external = (r.ServiceFlags & ServiceFlags.External) != 0 && r.Scope == 0;
                string why = sp is var (svc, _) && external && svc.ExternalTrafficPolicy == TrafficPolicy.Local
                    ? $"{svc.Key} has externalTrafficPolicy: Local, so the client address {inF.SrcText} should reach the pod; the node masqueraded it to {seen.SrcText}"
                    : $"{name ?? "the connection"} keeps the client's address ({inF.SrcText}: not masqueraded, as kube-proxy marks only what its KUBE-MARK-MASQ rules mark); the node sent it from {seen.SrcText}";
                return new VerifyDiff(s, "src", expect.SrcText, seen.SrcText, why);
            }
            if (r.Masqueraded && seen.Src == inF.Src)
                return new VerifyDiff(s, "src", expect.SrcText, seen.SrcText,
                    $"{name ?? "the connection"} is masqueraded here (to {Ip4.Format(expect.Src)}, the address MASQUERADE takes towards {expect.DstText}); the node kept the client address {seen.SrcText}");
            return new VerifyDiff(s, "src", expect.SrcText, seen.SrcText,
                $"the node sent the connection from {seen.SrcText}; the Service semantics call for {expect.SrcText}");
        }

        /// <summary>" (default/web:http has no usable endpoint)": the pipeline's reason for a reject or an answer.</summary>
        static string Because(in PacketResult r, MapSet maps)
        {
            string? name = maps.ServiceName(r.RevNatIndex);
            return r.Verdict switch
            {
                Verdict.Reject when name is not null => $": {name} has no usable endpoint",
                Verdict.Answer => ": a query to the cluster DNS",
                Verdict.Forward when name is not null => $" ({name})",
                _ => "",
            };
        }

        /// <summary>The frontend's usable endpoints the pipeline balanced over (its slots).</summary>
        static string Usable(in PacketResult r, MapSet maps)
        {
            if (!r.HasFrontend || r.SlotCount == 0) return "no usable endpoint";
            var all = new List<string>();
            for (uint k = 0; k < r.SlotCount && k < 8; k++)
            {
                ref readonly Lb4Backend b = ref maps.Backend(maps.Slot(r.SlotOffset + k));
                all.Add(Ip4.Format(b.Address, b.Port));
            }
            return string.Join(", ", all) + (r.SlotCount > 8 ? $" and {r.SlotCount - 8} more" : "");
        }

        /// <summary>Would MASQUERADE give this client port that source port (nf_nat_l4proto_unique_tuple's classes)?</summary>
        static bool SameClass(ushort natPort, ushort clientPort) =>
            clientPort == 0 || clientPort >= 1024 ? natPort >= 1024
            : clientPort < 512 ? natPort is >= 1 and < 512 : natPort is >= 600 and < 1024;
    }
}
