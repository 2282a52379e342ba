using System.CommandLine;
using DataPlane.IO.Live;

namespace DataPlane.Cli;

/// <summary>
/// <c>dataplane ct list</c>, <c>dataplane nat list</c> and <c>dataplane counters</c>: ask a running <c>dataplane run</c>
/// over its control socket, like <c>conntrack -L</c> and <c>cilium-dbg bpf nat list</c> ask the kernel.
/// </summary>
public static class CtCommand
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command BuildCt() => Group("ct", "Connection tracking of a running data plane",
        Ask("list", "List the conntrack table (conntrack -L style, seconds left on the live clock)", "ct list"));

    public static Command BuildNat() => Group("nat", "SNAT bindings of a running data plane",
        Ask("list", "List the SNAT bindings (cilium bpf nat list style)", "nat list"));

    public static Command BuildCounters() => Ask("counters", "Frames, verdicts, drop reasons and conntrack occupancy of a running data plane", "counters");

    static Command Group(string name, string description, Command list)
    {
        var c = new Command(name, description);
        c.Subcommands.Add(list);
        return c;
    }

    static Command Ask(string name, string description, string request)
    {
        var control = new Option<string?>("--control") { Description = $"Control socket of the running data plane (default {ControlServer.DefaultDirectory}/<tap>.sock)" };
        var tap = new Option<string?>("--tap") { Description = "TAP the data plane runs on (picks its default control socket)" };
        var cmd = new Command(name, description) { control, tap };
        cmd.SetAction(pr => Errors.Guard(() =>
        {
            string path = pr.GetValue(control) ?? (pr.GetValue(tap) is { } t ? ControlServer.DefaultPath(t) : OnlySocket());
            ControlClient.Request(path, request, Console.Out, Timeout);
            return 0;
        }));
        return cmd;
    }

    /// <summary>Without --control or --tap: the one data plane running on this machine, or an error naming the choices.</summary>
    static string OnlySocket()
    {
        string dir = ControlServer.DefaultDirectory;
        string[] sockets = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.sock") : [];
        return sockets.Length switch
        {
            1 => sockets[0],
            0 => throw new UsageException($"no control socket in {dir}: no `dataplane run` is running (or pass --control PATH)"),
            _ => throw new UsageException($"several data planes run ({string.Join(", ", sockets.Select(Path.GetFileName).Order())}): pass --tap NAME or --control PATH"),
        };
    }
}
