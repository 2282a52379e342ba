using System.CommandLine;
using DataPlane.Dns;
using DataPlane.IO.Text;
using DataPlane.IO.Trace;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane dns --cluster P NAME [TYPE]</c>: like <c>dig @cluster-dns NAME TYPE</c>: a real query frame through the
/// pipeline's DNS stage (<see cref="DnsProbe"/>, always answering here), the response shown by <see cref="DnsText"/>.
/// <c>--from ns/pod</c> resolves as that pod's stub resolver would, printing every query its search path sends until
/// the first answer.
/// </summary>
public static class DnsCommand
{
    const uint DefaultClient = 0x0AF40001; // 10.244.0.1: a pod-network address when no --from pod gives one

    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        var name = new Argument<string?>("name") { Description = "The name to look up", Arity = ArgumentArity.ZeroOrOne };
        var type = new Argument<string>("type") { Description = "Record type (A, AAAA, SRV, PTR, TXT, SOA, NS, CNAME, ANY, any IANA mnemonic or TYPEnnn)", DefaultValueFactory = _ => "A" };
        var tcp = new Option<bool>("--tcp") { Description = "Send the query over TCP (one segment, length-prefixed)" };
        var json = new Option<bool>("--json") { Description = "One JSON line per query" };
        var batch = new Option<string?>("--batch") { Description = "File of {\"qname\",\"qtype\"} lines" };
        var from = new Option<string?>("--from") { Description = "ns/pod: resolve as that pod's resolver does (its resolv.conf, search path, ndots)" };

        var cmd = new Command("dns", "Query the cluster DNS the data plane answers, like dig (or as a pod's resolver with --from)")
            { name, type, tcp, json, batch, from };
        clusterArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            // The zone of the resolved cluster: pods from workloads, StatefulSet hostnames and headless endpoints
            // included, exactly as the data plane's DNS stage holds it. Asking is answering: the mode is forced.
            ResolvedCluster c = clusterArgs.Resolve(pr, o => o with { Dns = o.Dns with { Mode = DnsMode.Answer } });
            clusterArgs.NodeOf(pr, c); // one zone for the whole cluster; --node must still name a node
            DnsZone zone = c.Dns;
            DnsOptions options = c.Options.Dns;
            bool asJson = pr.GetValue(json);

            uint client = DefaultClient;
            Pod? pod = null;
            if (pr.GetValue(from) is { } who)
            {
                pod = PodArg.Find(c, who, "--from");
                client = pod.PodIP ?? client;
            }
            using var probe = new DnsProbe(zone, client, pr.GetValue(tcp));

            if (pr.GetValue(batch) is { } file)
            {
                int line = 0;
                foreach (string text in File.ReadLines(file))
                {
                    line++;
                    if (string.IsNullOrWhiteSpace(text)) continue;
                    (string qname, ushort qtype) = DnsProbe.ParseBatchLine(file, line, text);
                    DnsText.Write(Console.Out, qname, qtype, probe.Ask(qname, qtype), asJson);
                }
                return 0;
            }
            if (pr.GetValue(name) is not { } qn) throw new UsageException("dns needs a NAME (or --batch FILE)");
            ushort t = DnsType.Parse(pr.GetValue(type)!);
            if (t == 0) throw new UsageException($"'{pr.GetValue(type)}' is not a record type");
            if (pod is null)
            {
                DnsText.Write(Console.Out, qn, t, probe.Ask(qn, t), asJson);
                return 0;
            }
            PodResolvConf rc = PodResolvConf.For(pod, options.ClusterDomain, Ip4.Format(zone.Address));
            if (!rc.UsesClusterDns) DnsText.WriteNotClusterDns(Console.Out, pod, rc, asJson);
            else DnsText.WriteResolution(Console.Out, pod, rc, t, rc.Resolve(qn, candidate => probe.Ask(candidate, t)), asJson);
            return 0;
        }));
        return cmd;
    }
}
