using DataPlane.Fuzz;
using DataPlane.IO.Pcap;
using SharpFuzz;

// dataplane fuzz harnesses:
//   DataPlane.Fuzz pipeline CLUSTER      run under afl-fuzz (input on stdin/file from the fork server)
//   DataPlane.Fuzz manifests             run under afl-fuzz
//   DataPlane.Fuzz check pipeline|manifests CLUSTER FILE...   run inputs once without AFL (reproduce a finding)
//   DataPlane.Fuzz seed OUTDIR PCAP...   turn captures into pipeline seeds (frame records, 16 frames per seed), plus
//                                        the DNS conversations of DnsSeeds (TCP handshakes, pipelined queries)
if (args.Length == 0) return Usage();
switch (args[0])
{
    case "pipeline" when args.Length == 2:
    {
        // Instrumented code may only run once SharpFuzz has mapped AFL's coverage bitmap (inside Run): the cluster
        // is compiled on the first input and kept for the others (one process serves every execution).
        PipelineHarness? h = null;
        Fuzzer.OutOfProcess.Run(stream => (h ??= new PipelineHarness(args[1])).Run(ReadAll(stream)));
        return 0;
    }
    case "manifests":
    {
        var h = new ManifestHarness();
        Fuzzer.OutOfProcess.Run(stream => h.Run(ReadAll(stream)));
        return 0;
    }
    case "check" when args.Length >= 4:
    {
        Action<byte[]> run;
        PipelineHarness? p = null;
        if (args[1] == "pipeline") { p = new PipelineHarness(args[2]); run = b => p.Run(b); }
        else { var m = new ManifestHarness(); run = b => m.Run(b); }
        int failed = 0;
        foreach (string f in args[3..].SelectMany(a => Directory.Exists(a) ? Directory.GetFiles(a) : [a]))
        {
            try { run(File.ReadAllBytes(f)); }
            catch (Exception e) { failed++; Console.WriteLine($"{f}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"); }
        }
        Console.WriteLine($"check {args[1]}: {failed} failing input(s)" + (p is null ? "" : $", {p.Answers} DNS answer(s)"));
        return failed == 0 ? 0 : 1;
    }
    case "seed" when args.Length >= 3:
    {
        Directory.CreateDirectory(args[1]);
        int seeds = 0;
        foreach (string pcap in args[2..])
        {
            try
            {
                using var reader = new CaptureReader(pcap);
                int n = 0;
                MemoryStream? current = null;
                bool dns = false;
                long last = 0;
                while (reader.TryRead(out CaptureFrame frame))
                {
                    current ??= new MemoryStream();
                    long dt = n == 0 ? 0 : Math.Clamp((frame.TimestampNs - last) / 100_000_000, 0, 254);
                    last = frame.TimestampNs;
                    FrameRecords.Write(current, frame.Data, (byte)dt);
                    dns |= DnsSeeds.ToPort53(frame.Data);
                    if (++n % 16 == 0) { Flush(current, dns); current = null; dns = false; }
                }
                if (current is not null) Flush(current, dns);
            }
            catch (Exception e) when (e is CaptureFormatException or IOException)
            {
                Console.Error.WriteLine($"seed: skipping {pcap}: {e.Message}");
            }

            // A seed with DNS queries in it gets an odd first clock step: the harness then answers DNS at the address
            // the repository's DNS captures use (PipelineHarness), instead of DNATing it to kube-system/dns's pod.
            void Flush(MemoryStream s, bool toDns)
            {
                byte[] b = s.ToArray();
                if (toDns && b.Length >= 3) b[2] |= 1;
                File.WriteAllBytes(Path.Combine(args[1], $"seed-{seeds++:D4}"), b);
            }
        }
        seeds += DnsSeeds.Write(args[1]);
        Console.WriteLine($"seed: {seeds} seed file(s) in {args[1]}");
        return 0;
    }
}
return Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: DataPlane.Fuzz pipeline CLUSTER | manifests | check pipeline|manifests CLUSTER FILE... | seed OUTDIR PCAP...");
    return 2;
}

static byte[] ReadAll(Stream s)
{
    using var ms = new MemoryStream();
    s.CopyTo(ms);
    return ms.ToArray();
}
