using System.CommandLine;
using System.Runtime.InteropServices;
using DataPlane.IO.Live;
using DataPlane.IO.Reload;
using DataPlane.IO.Tap;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Pipeline;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane run --tap NAME [--netns NS] --cluster|--manifests DIR --node NAME [--control PATH] [--ct-max N ...]</c>:
/// the live data plane on a TAP device until Ctrl-C or SIGTERM; SIGHUP reloads the manifests.
/// </summary>
public static class RunCommand
{
    public static Command Build()
    {
        var clusterArgs = new ClusterArgs();
        // The brief's and kube-proxy-like spelling; --cluster stays the name every other command uses.
        clusterArgs.Cluster.Aliases.Add("--manifests");
        var tap = new Option<string>("--tap") { Description = "TAP device to attach to (ip tuntap add mode tap name NAME)", Required = true };
        var netns = new Option<string?>("--netns") { Description = "Network namespace of the TAP (a name under /run/netns, or a path like /proc/PID/ns/net)" };
        var create = new Option<bool>("--create") { Description = "Create a transient TAP (brought up, unaddressed) when none of that name exists" };
        var control = new Option<string?>("--control") { Description = $"Control socket for ct list / nat list / counters (default {ControlServer.DefaultDirectory}/<tap>.sock)" };
        var forwardPassed = new Option<bool>("--forward-passed") { Description = "Write frames no Service rule touches back into the TAP untranslated, for a TAP namespace that routes them on (dataplane lab's node)" };
        var offload = new Option<string>("--offload")
        {
            Description = "Checksum offload and TSO on the TAP (a vnet header per frame; a bulk TCP stream arrives in 64 KB GSO packets): auto = on with one worker",
            DefaultValueFactory = _ => "auto",
        };
        offload.AcceptOnlyFromAmong("auto", "on", "off");
        var pipelineArgs = new PipelineArgs();

        var cmd = new Command("run", "Run the data plane live on a TAP device: frames the kernel sends out of it are translated and written back") { tap, netns, create, control, forwardPassed, offload };
        clusterArgs.AddTo(cmd);
        pipelineArgs.AddTo(cmd);
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            // Keeps the manifests and the id registry, so SIGHUP reloads keep ids stable for live conntrack entries.
            ControlPlane controlPlane;
            try
            {
                controlPlane = ReloadBoundary.OnReloadStack(() => clusterArgs.CreateControlPlane(pr));
            }
            catch (Exception e) when (!Fatal.Is(e) && e is not (ManifestException or UsageException or IOException or UnauthorizedAccessException))
            {
                // Whatever else the loader or compiler throws on these manifests is still one line, not a stack trace.
                Console.Error.WriteLine($"dataplane: error: {pr.GetValue(clusterArgs.Cluster)}: {ReloadBoundary.Describe(e)}");
                return 1;
            }
            // Declared before the session's users, so it is disposed after them: the control socket's listings and the
            // packet threads are done with the tables when their native memory is released.
            using WorkerSet workers = pipelineArgs.CreateWorkers(pr, controlPlane.Holder);

            string tapName = pr.GetValue(tap)!;
            string offloadMode = pr.GetValue(offload)!;
            if (offloadMode == "on" && workers.Count > 1)
                throw new UsageException($"--offload on takes one worker (--workers {workers.Count}): the worker queues hold frames of at most {LiveSession.QueueSlotSize} bytes, and a GSO packet is up to 64 KB");
            using TapDevice device = TapDevice.Open(tapName, pr.GetValue(create), pr.GetValue(netns), offload: offloadMode == "on" || (offloadMode == "auto" && workers.Count == 1));
            var session = new LiveSession(device, workers, pr.GetValue(forwardPassed));
            using var server = new ControlServer(pr.GetValue(control) ?? ControlServer.DefaultPath(tapName), session);

            using var stop = new CancellationTokenSource();
            void Stop(PosixSignalContext c)
            {
                c.Cancel = true; // stop the loop and clean up (socket file, transient TAP) instead of dying mid-frame
                stop.Cancel();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var reloader = new Reloader(
                cancel =>
                {
                    var maps = controlPlane.Reload(cancel: cancel);
                    return $"dataplane: reloaded {controlPlane.ClusterPath}: maps generation {maps.Generation}";
                },
                () => $"keeping generation {controlPlane.Holder.Current.Generation}",
                Console.Out, Console.Error);
            // Under nohup SIGHUP arrives ignored; a reload signal must work however the daemon was started.
            SignalDisposition.ResetIfIgnored(SignalDisposition.SIGHUP);
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
            {
                c.Cancel = true;
                reloader.Request();
            });

            Console.Out.WriteLine($"dataplane: {(device.Created ? "created" : "attached to")} TAP {device.Name}" +
                                  $"{(device.Namespace is null ? "" : $" in netns {device.Namespace}")} (ifindex {device.IfIndex}); " +
                                  $"node {controlPlane.NodeName}, maps generation {controlPlane.Holder.Current.Generation}, {workers.Count} worker{(workers.Count == 1 ? "" : "s")}{(device.Offload ? ", offloads on (vnet header, checksum, TSO)" : "")}; control socket {server.Path}");
            Console.Out.WriteLine("dataplane: running; Ctrl-C or SIGTERM stops, SIGHUP reloads the manifests");
            Console.Out.Flush();
            session.Run(stop.Token);
            Console.Out.WriteLine("dataplane: stopped");
            session.WriteCounters(Console.Out);
            return 0;
        }));
        return cmd;
    }
}
