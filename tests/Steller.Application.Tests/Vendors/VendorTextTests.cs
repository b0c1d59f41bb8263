using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Vendors;

namespace Steller.Application.Tests.Vendors;

public sealed class VendorTextTests
{
    [Test]
    public void control_characters_and_bidi_overrides_become_one_space_and_lone_surrogates_a_replacement_character() =>
        VendorText.Reason("bad\u0000\u0000card\u001b[31m\u202Eevil\n \ud800end").Should().Be("bad card [31m evil \uFFFDend");

    [Test]
    public void a_300_kb_reason_is_cut_to_the_maximum_and_says_so() =>
        VendorText.Reason(new string('x', 300 * 1024)).Should().HaveLength(VendorText.MaxReason).And.EndWith("…");

    [Test]
    public void a_cut_never_splits_a_surrogate_pair()
    {
        var cut = VendorText.Clean("a" + string.Concat(Enumerable.Repeat("😀", 10)), 6)!;
        cut.Should().Be("a😀😀…");
        char.IsHighSurrogate(cut[^2]).Should().BeFalse();
    }

    [Test]
    public void ordinary_text_and_null_pass_unchanged()
    {
        VendorText.Reason("Brand temporarily out of stock — try later (Zalando)").Should().Be("Brand temporarily out of stock — try later (Zalando)");
        VendorText.Reason(null).Should().BeNull();
    }
}
