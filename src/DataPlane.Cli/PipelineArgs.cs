using System.CommandLine;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary>The data-plane options replay and run share: seed, conntrack size and timeouts, SNAT port range.</summary>
public sealed class PipelineArgs
{
    readonly Option<ulong> _seed = new("--seed") { Description = "Seed for backend selection and SNAT ports", DefaultValueFactory = _ => 1 };
    readonly Option<int> _ctMax = new("--ct-max") { Description = "Conntrack capacity (power of two)", DefaultValueFactory = _ => 1 << 20 };
    readonly Option<string> _snatRange = new("--snat-port-range") { Description = "Source ports for masquerade", DefaultValueFactory = _ => "32768-65535" };
    readonly Option<int> _tSyn = new("--ct-timeout-syn") { Description = "Seconds a TCP entry that saw only SYNs lives", DefaultValueFactory = _ => 60 };
    readonly Option<int> _tEst = new("--ct-timeout-established") { Description = "Seconds an established TCP entry lives idle", DefaultValueFactory = _ => 21600 };
    readonly Option<int> _tClose = new("--ct-timeout-close") { Description = "Seconds a closing (FIN both ways, RST) TCP entry lives", DefaultValueFactory = _ => 10 };
    readonly Option<int> _tAny = new("--ct-timeout-any") { Description = "Seconds a UDP/ICMP entry lives idle", DefaultValueFactory = _ => 60 };

    readonly Option<string> _hostPorts = new("--host-ports")
    {
        Description = "Ports the node itself serves on its addresses (PORT[-PORT][/tcp|/udp],...; 'none'); others get a TCP reset or ICMP port unreachable",
        DefaultValueFactory = _ => HostPortSet.DefaultSpec,
    };

    readonly Option<int> _workers = new("--workers")
    {
        Description = "Worker pipelines, each with its own conntrack share; frames are steered to them by connection (like NIC RSS)",
        DefaultValueFactory = _ => 1,
    };

    /// <param name="workers">Whether the command runs worker pipelines (replay, run) and so takes --workers; trace runs one packet.</param>
    public void AddTo(Command c, bool workers = true)
    {
        foreach (Option o in new Option[] { _seed, _ctMax, _snatRange, _tSyn, _tEst, _tClose, _tAny, _hostPorts }) c.Options.Add(o);
        if (workers) c.Options.Add(_workers);
    }

    /// <summary>
    /// The workers over <paramref name="maps"/> (<c>--workers</c>, the node's <c>--ct-max</c> shared between them, see
    /// <see cref="WorkerSet"/>); the caller owns and disposes them.
    /// </summary>
    public WorkerSet CreateWorkers(ParseResult pr, MapSetHolder maps)
    {
        PipelineOptions options = Parse(pr);
        int n = pr.GetValue(_workers);
        if (n < 1 || n > WorkerSet.MaxWorkers) throw new UsageException($"--workers: {n} is not between 1 and {WorkerSet.MaxWorkers}");
        return new WorkerSet(maps, options, n);
    }

    public PipelineOptions Parse(ParseResult pr)
    {
        int ct = pr.GetValue(_ctMax);
        if (ct < 1 || (ct & (ct - 1)) != 0) throw new UsageException($"--ct-max: {ct} is not a power of two");
        string range = pr.GetValue(_snatRange)!;
        string[] parts = range.Split('-');
        if (parts.Length != 2 || !ushort.TryParse(parts[0], out ushort lo) || !ushort.TryParse(parts[1], out ushort hi) || lo == 0 || lo > hi)
            throw new UsageException($"--snat-port-range: '{range}' is not a port range like 32768-65535");
        foreach (var (name, value) in new[] { ("--ct-timeout-syn", pr.GetValue(_tSyn)), ("--ct-timeout-established", pr.GetValue(_tEst)), ("--ct-timeout-close", pr.GetValue(_tClose)), ("--ct-timeout-any", pr.GetValue(_tAny)) })
            if (value <= 0) throw new UsageException($"{name}: {value} is not a positive number of seconds");
        if (!HostPortSet.TryParse(pr.GetValue(_hostPorts)!, out HostPortSet hostPorts, out string hostPortError))
            throw new UsageException($"--host-ports: {hostPortError}");
        return new PipelineOptions
        {
            HostPorts = hostPorts,
            Seed = pr.GetValue(_seed),
            CtCapacity = ct,
            SnatPortMin = lo,
            SnatPortMax = hi,
            // An explicit range is MASQUERADE --to-ports: every client port draws from it; without one, privileged
            // client ports keep their class (the kernel's rule for MASQUERADE without a range).
            SnatPrivilegedClasses = pr.GetResult(_snatRange) is not { Implicit: false },
            TcpSynTimeout = TimeSpan.FromSeconds(pr.GetValue(_tSyn)),
            TcpEstablishedTimeout = TimeSpan.FromSeconds(pr.GetValue(_tEst)),
            TcpCloseTimeout = TimeSpan.FromSeconds(pr.GetValue(_tClose)),
            NonTcpTimeout = TimeSpan.FromSeconds(pr.GetValue(_tAny)),
        };
    }
}
