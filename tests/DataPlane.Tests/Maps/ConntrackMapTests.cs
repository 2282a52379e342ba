using CsCheck;
using DataPlane.Maps;

namespace DataPlane.Tests.Maps;

public class ConntrackMapTests
{
    static CtTuple4 T(uint a, ushort p) => new(a, p, 0x0A60000A, 80, 6);

    [Fact]
    public void Finds_a_connection_from_either_tuple_and_forgets_it_on_delete()
    {
        var ct = new ConntrackMap(8);
        var orig = T(1, 1000);
        var reply = new CtTuple4(0x0AF40207, 8080, 1, 1000, 6);
        Assert.Equal(MapStatus.Ok, ct.TryCreate(orig, reply, out int e));
        Assert.Equal(e, ct.Lookup(orig, out var d1));
        Assert.Equal(CtDirection.Original, d1);
        Assert.Equal(e, ct.Lookup(reply, out var d2));
        Assert.Equal(CtDirection.Reply, d2);
        Assert.Equal(MapStatus.Exists, ct.TryCreate(T(2, 2), reply, out _)); // reply tuple taken: NOEXIST fails
        ct.Delete(e);
        Assert.Equal(-1, ct.Lookup(orig, out _));
        Assert.Equal(-1, ct.Lookup(reply, out _));
        Assert.Equal(0, ct.Count);
    }

    [Fact]
    public void Full_is_a_status()
    {
        var ct = new ConntrackMap(2);
        Assert.Equal(MapStatus.Ok, ct.TryCreate(T(1, 1), T(1, 1).Reverse(), out _));
        Assert.Equal(MapStatus.Ok, ct.TryCreate(T(2, 1), T(2, 1).Reverse(), out _));
        Assert.Equal(MapStatus.Full, ct.TryCreate(T(3, 1), T(3, 1).Reverse(), out _));
    }

    /// <summary>Random create/delete sequences against a dictionary model: backward-shift deletion never loses an entry.</summary>
    [Fact]
    public void Matches_a_model_under_churn()
    {
        Gen.Select(Gen.UInt[0, 40], Gen.Bool).Array[1, 400].Sample(ops =>
        {
            var ct = new ConntrackMap(64);
            var model = new Dictionary<uint, int>();
            foreach (var (k, delete) in ops)
            {
                var orig = T(k, (ushort)k);
                if (delete && model.Remove(k, out int idx)) ct.Delete(idx);
                else if (!model.ContainsKey(k) && ct.TryCreate(orig, orig.Reverse(), out int e) == MapStatus.Ok) model[k] = e;
            }
            Assert.Equal(model.Count, ct.Count);
            foreach (var (k, idx) in model)
            {
                Assert.Equal(idx, ct.Lookup(T(k, (ushort)k), out _));
                Assert.Equal(idx, ct.Lookup(T(k, (ushort)k).Reverse(), out _));
            }
            for (uint k = 0; k <= 40; k++)
                if (!model.ContainsKey(k)) Assert.Equal(-1, ct.Lookup(T(k, (ushort)k), out _));
        }, iter: 300);
    }

    [Fact]
    public void Memory_per_flow_is_96_bytes() => Assert.Equal(96, ConntrackMap.BytesPerFlow);
}
