using FluentAssertions;
using NUnit.Framework;

namespace Steller.Domain.Tests;

public sealed class CurrencyTests
{
    [TestCase("EUR", 2)]
    [TestCase("USD", 2)]
    [TestCase("JPY", 0)]
    [TestCase("KRW", 0)]
    [TestCase("BHD", 3)]
    [TestCase("KWD", 3)]
    [TestCase("CLF", 4)]
    public void an_iso_4217_code_in_use_is_accepted_with_its_exponent(string code, int exponent)
    {
        Currency.TryParse(code, out var currency).Should().BeTrue();
        currency.Exponent.Should().Be(exponent);
    }

    [TestCase("QQQ")]
    [TestCase("XTS")]
    [TestCase("XAU")]
    [TestCase("HRK")]
    [TestCase("eur")]
    [TestCase("EURO")]
    [TestCase("")]
    public void three_capitals_are_not_enough_nor_a_withdrawn_or_non_monetary_code(string code) =>
        Currency.IsKnown(code).Should().BeFalse();

    [Test]
    public void an_unknown_code_is_named_in_the_refusal_but_other_input_is_never_echoed()
    {
        Currency.UnknownMessage("QQQ").Should().Contain("'QQQ'");
        Currency.UnknownMessage("<script>\u0000").Should().NotContain("script");
    }

    [TestCase(12345L, "EUR", "123.45")]
    [TestCase(-500L, "EUR", "-5.00")]
    [TestCase(12345L, "JPY", "12345")]
    [TestCase(12345L, "BHD", "12.345")]
    [TestCase(5L, "CLF", "0.0005")]
    [TestCase(1_000_000_000_000_000L, "EUR", "10000000000000.00")]
    public void amounts_are_formatted_with_the_currencys_exponent(long minor, string currency, string expected) =>
        Money.Format(minor, currency).Should().Be(expected);
}
