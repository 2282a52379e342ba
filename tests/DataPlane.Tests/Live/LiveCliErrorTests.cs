using System.Net.Sockets;
using DataPlane.Tests.Cli;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Live;

/// <summary>
/// Live-mode commands given something they cannot use: one line on stderr, exit code 1, no stack trace. None of these
/// needs root or creates anything (run without --create never makes a device).
/// </summary>
public sealed class LiveCliErrorTests : IDisposable
{
    readonly TempDir _tmp = new("live-cli");

    public void Dispose()
    {
        _tmp.Dispose();
    }

    [Theory]
    [InlineData("ct")]
    [InlineData("nat")]
    public void List_without_a_running_data_plane_says_so(string table)
    {
        string line = CliTests.AssertOneLineError(CliTests.Run(table, "list", "--control", Path.Combine(_tmp.Path, "none.sock")));
        Assert.Contains("no running `dataplane run`", line);
        Assert.Contains("no such socket", line);
    }

    [Fact]
    public void List_against_a_stale_socket_file_says_so()
    {
        // A socket file nobody listens on, as a killed data plane leaves behind: connect is refused. (Kept bound while
        // the CLI runs, because .NET unlinks the file when the socket is disposed.)
        string path = Path.Combine(_tmp.Path, "stale.sock");
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        string line = CliTests.AssertOneLineError(CliTests.Run("ct", "list", "--control", path));
        Assert.Contains("connection refused", line);
    }

    [Fact]
    public void Run_on_a_missing_tap_names_it_and_how_to_create_it()
    {
        string tap = "dpnx" + Guid.NewGuid().ToString("N")[..8];
        string line = CliTests.AssertOneLineError(CliTests.Run("run", "--tap", tap, "--cluster", Repo.Cluster, "--node", "node-1",
            "--control", Path.Combine(_tmp.Path, "c.sock")));
        Assert.Contains($"no TAP device '{tap}'", line);
        Assert.Contains("ip tuntap add mode tap", line);
    }

    [Theory]
    [InlineData("this-name-is-too-long")] // IFNAMSIZ: 15 bytes at most
    [InlineData("tap%d")]                  // the kernel would pick the name itself
    [InlineData("a/b")]
    public void Run_refuses_an_invalid_interface_name(string tap)
    {
        string line = CliTests.AssertOneLineError(CliTests.Run("run", "--tap", tap, "--cluster", Repo.Cluster, "--node", "node-1",
            "--control", Path.Combine(_tmp.Path, "c.sock")));
        Assert.Contains("not a valid interface name", line);
    }

    [Fact]
    public void Run_in_a_missing_namespace_names_it()
    {
        string ns = "dpnx-" + Guid.NewGuid().ToString("N")[..8];
        string line = CliTests.AssertOneLineError(CliTests.Run("run", "--tap", "dtap0", "--netns", ns, "--cluster", Repo.Cluster,
            "--node", "node-1", "--control", Path.Combine(_tmp.Path, "c.sock")));
        Assert.Contains($"network namespace '{ns}' not found", line);
    }
}
