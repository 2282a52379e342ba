using System.Text;
using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// YAML as kubectl's decoder (sigs.k8s.io/yaml over go-yaml v2) reads it, and inputs that must not hurt: deep nesting,
/// alias bombs, invalid UTF-8 — each one clean line naming the file, never a stack overflow or a stall.
/// </summary>
public class YamlRobustnessTests
{
    static ClusterManifests Load(string yaml)
    {
        using var dir = new ManifestDirectory();
        return ManifestLoader.Load(dir.Write("m.yaml", yaml));
    }

    static ClusterManifests LoadBytes(byte[] bytes)
    {
        using var dir = new ManifestDirectory();
        string path = Path.Combine(dir.Root, "m.yaml");
        File.WriteAllBytes(path, bytes);
        return ManifestLoader.Load(path);
    }

    static ManifestException Fails(string yaml) => Assert.Throws<ManifestException>(() => Load(yaml));

    [Fact]
    public void Merge_keys_are_honoured_and_explicit_keys_win()
    {
        var m = Load("""
            apiVersion: v1
            kind: Service
            metadata: {name: dns}
            spec:
              ports:
              - &base {name: a, port: 53, protocol: UDP}
              - <<: *base
                name: b
                port: 54
              - name: c
                port: 55
                <<: [*base]
            """);
        var ports = m.Services[0].Ports;
        Assert.Equal(["a", "b", "c"], ports.Select(p => p.Name));
        Assert.Equal([53, 54, 55], ports.Select(p => p.Port));
        Assert.All(ports, p => Assert.Equal(PortProtocol.UDP, p.Protocol)); // was TCP when "<<" was ignored
        Assert.Empty(m.Warnings); // "<<" is not an unknown field
    }

    [Theory]
    [InlineData("yes", true)]
    [InlineData("Yes", true)]
    [InlineData("on", true)]
    [InlineData("y", true)]
    [InlineData("no", false)]
    [InlineData("OFF", false)]
    [InlineData("n", false)]
    [InlineData("true", true)]
    public void Yaml_1_1_booleans_fill_boolean_fields_as_kubectl_reads_them(string text, bool expected)
    {
        var m = Load($"apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{publishNotReadyAddresses: {text}, ports: [{{port: 80}}]}}\n");
        Assert.Equal(expected, m.Services[0].PublishNotReadyAddresses);
    }

    [Fact]
    public void Yaml_1_1_booleans_are_not_strings_so_an_unquoted_yes_label_is_refused_like_kubectl()
    {
        var e = Fails("apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {canary: yes}}\n");
        Assert.Equal("metadata.labels[canary]", e.FieldPath);
        Assert.Equal("expected a string, got boolean yes", e.Problem);
        Assert.Equal("yes", Load("apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {canary: \"yes\"}}\n").Pods[0].Labels["canary"]);
    }

    [Theory]
    [InlineData("0x50", 80)]
    [InlineData("1_0_0", 100)]
    [InlineData("0o120", 80)]
    [InlineData("0120", 80)] // YAML 1.1 octal, as go-yaml v2 reads it
    public void Integers_in_go_yaml_forms(string text, int expected)
    {
        var m = Load($"apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{port: {text}}}]}}\n");
        Assert.Equal(expected, m.Services[0].Ports[0].Port);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_its_offset()
    {
        byte[] good = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n");
        byte[] bad = [.. good, .. "x: \""u8.ToArray(), 0xC3, 0x28, .. "\"}\n"u8.ToArray()];
        var e = Assert.Throws<ManifestException>(() => LoadBytes(bad));
        Assert.Null(e.ObjectRef);
        Assert.Equal($"line 5: invalid UTF-8 at byte offset {good.Length + 4} (kubectl refuses it too: manifests must be UTF-8)", e.Problem);
        // A UTF-8 byte-order mark is fine.
        Assert.Single(LoadBytes([0xEF, 0xBB, 0xBF, .. good]).Services);
    }

    [Fact]
    public void Nesting_deeper_than_go_yaml_allows_is_one_clean_error_not_a_stack_overflow()
    {
        // ~25 000 levels in 50 KB on one line: this used to overflow the stack (exit 134).
        string deep = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nx: " + new string('[', 25_000) + new string(']', 25_000) + "\n";
        var e = Fails(deep);
        Assert.Contains("exceeded max depth of 10000", e.Problem);
        Assert.Equal("document 1", e.ObjectRef);

        // Just inside the limit it parses; the unknown field is a warning, not walked.
        string ok = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\nx: " + new string('[', 9_990) + new string(']', 9_990) + "\n";
        var m = Load(ok);
        Assert.Single(m.Services);
        Assert.Contains(m.Warnings, w => w.Contains("unknown field \"x\""));
    }

    static string Bomb(int levels)
    {
        var sb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i < levels; i++)
            sb.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        return sb.ToString();
    }

    [Fact]
    public void An_alias_bomb_used_as_a_mapping_key_is_refused_at_once()
    {
        // The shape that took 4 s at 341 bytes and grew tenfold per line: the key is a huge aliased list.
        string yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nx:\n" + Indent(Bomb(5)) + "  ? *a4\n  : v\n";
        var e = Fails(yaml);
        Assert.Contains("cannot be a key", e.Problem);
    }

    [Fact]
    public void An_alias_bomb_as_a_value_is_refused_by_the_aliasing_budget()
    {
        // 9^10 ≈ 3.5 billion nodes once expanded: go-yaml refuses it with "excessive aliasing"; so do we, without expanding.
        string yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nx:\n" + Indent(Bomb(10));
        var e = Fails(yaml);
        Assert.Contains("document contains excessive aliasing", e.Problem);

        // Ordinary anchor use stays fine.
        Assert.Empty(Load("apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: &l {app: web}}\nspec: {selector: *l, ports: [{port: 80}]}\n").Warnings);
    }

    static string Indent(string s) => string.Concat(s.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "  " + l + "\n"));

    [Fact]
    public void A_mapping_as_key_and_a_duplicate_key_are_errors_as_in_kubectl()
    {
        Assert.Contains("cannot be a key", Fails("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n? {a: b}\n: c\n").Problem);
        Assert.Contains("duplicate field \"kind\"", Fails("apiVersion: v1\nkind: Service\nkind: Service\nmetadata: {name: web}\n").Problem);
    }
}
