using CsCheck;
using DataPlane.Maps;

namespace DataPlane.Tests.Maps;

public class FixedHashMapTests
{
    [Fact]
    public void Matches_a_model_under_churn_and_reports_full()
    {
        Gen.Select(Gen.UInt[0, 30], Gen.Bool).Array[1, 300].Sample(ops =>
        {
            var map = new FixedHashMap<Lb4Key, uint>(16);
            var model = new Dictionary<uint, uint>();
            foreach (var (k, delete) in ops)
            {
                var key = new Lb4Key(k, (ushort)k, 6);
                if (delete) Assert.Equal(model.Remove(k), map.Remove(key));
                else
                {
                    MapStatus st = map.TryAdd(key, k * 7);
                    if (model.ContainsKey(k)) Assert.Equal(MapStatus.Exists, st);
                    else if (model.Count == 16) Assert.Equal(MapStatus.Full, st);
                    else { Assert.Equal(MapStatus.Ok, st); model[k] = k * 7; }
                }
            }
            Assert.Equal(model.Count, map.Count);
            for (uint k = 0; k <= 30; k++)
            {
                bool found = map.TryGetValue(new Lb4Key(k, (ushort)k, 6), out uint v);
                Assert.Equal(model.TryGetValue(k, out uint mv), found);
                if (found) Assert.Equal(mv, v);
            }
        }, iter: 300);
    }
}
