using System.Text.RegularExpressions;
using DataPlane.Pipeline;

namespace DataPlane.Tests.Pipeline;

/// <summary>
/// The drop-reason table is an interface: its names appear in verdict files and counters that outlive a build (cilium
/// keeps bpf/lib/drop_reasons.h stable for the same reason). Every enum value needs its own name, and a number must fit
/// the per-reason counters.
/// </summary>
public class DropReasonTests
{
    public static TheoryData<DropReason> Reasons() => [.. Enum.GetValues<DropReason>()];

    [Theory]
    [MemberData(nameof(Reasons))]
    public void Every_reason_has_its_own_kebab_case_name_and_a_counter_slot(DropReason r)
    {
        Assert.InRange((int)r, 0, DropReasonNames.Count - 1);
        Assert.InRange((int)r, 0, Counters.ReasonSlots - 1);
        string name = r.Name();
        Assert.Matches(new Regex("^[a-z0-9]+(-[a-z0-9]+)*$"), name);
        Assert.False(name.StartsWith("reserved-", StringComparison.Ordinal), $"{r} = {(int)r} is named {name}");
    }

    [Fact]
    public void Names_are_unique()
    {
        string[] names = [.. Enum.GetValues<DropReason>().Select(r => r.Name())];
        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
    }
}
