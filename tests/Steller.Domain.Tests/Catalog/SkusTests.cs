using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Catalog;

namespace Steller.Domain.Tests.Catalog;

public sealed class SkusTests
{
    [Test]
    public void an_id_that_is_already_normal_becomes_the_sku_after_the_vendor_prefix() =>
        Skus.ForVendorProduct("giftcard", "amazon-de-25").Should().Be("giftcard-amazon-de-25");

    [Test]
    public void ids_that_normalise_alike_get_different_deterministic_skus()
    {
        var upper = Skus.ForVendorProduct("giftcard", "ABC_1");
        var normal = Skus.ForVendorProduct("giftcard", "abc-1");
        normal.Should().Be("giftcard-abc-1");
        upper.Should().StartWith("giftcard-abc-1-").And.HaveLength("giftcard-abc-1-".Length + Skus.HashLength);
        upper.Should().NotBe(normal).And.Be(Skus.ForVendorProduct("giftcard", "ABC_1"), "the mapping is deterministic");
        Skus.ForVendorProduct("giftcard", "abc 1").Should().NotBe(upper);
    }

    [Test]
    public void long_and_unreadable_ids_still_give_valid_skus_of_at_most_64_characters()
    {
        foreach (var id in new[] { new string('x', 300), "€€€", "--a--", "Top Up / 5 EUR (DE)" })
        {
            var sku = Skus.ForVendorProduct("topup", id);
            Product.IsValidSku(sku).Should().BeTrue(sku);
            sku.Length.Should().BeLessThanOrEqualTo(64);
        }
        Skus.ForVendorProduct("topup", new string('x', 300)).Should().NotBe(Skus.ForVendorProduct("topup", new string('x', 301)));
    }
}
