using Microsoft.Extensions.Configuration;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Vendors;

namespace Steller.Vendors.Tests;

public sealed class SettingsTests
{
    private static VendorSettings Load(params (string Key, string Value)[] values) =>
        VendorSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build());

    [Test]
    public void a_vendor_without_a_base_url_is_simply_not_configured() =>
        Load().Should().Be(new VendorSettings(null, null));

    [Test]
    public void a_configured_gift_card_vendor_without_its_secret_stops_the_start_naming_the_key_and_its_variable()
    {
        var load = () => Load(("Vendors:GiftCard:BaseUrl", "http://127.0.0.1:5090/giftcard/"), ("Vendors:GiftCard:ClientId", "c"), ("Vendors:GiftCard:AccountId", "a"));

        load.Should().Throw<ConfigurationException>().WithMessage("Vendors:GiftCard:ClientSecret (env STELLER__Vendors__GiftCard__ClientSecret) is missing*");
    }

    [Test]
    public void a_rate_that_is_not_a_number_is_refused()
    {
        var load = () => Load(("Vendors:TopUp:BaseUrl", "http://127.0.0.1:5090/topup/"), ("Vendors:TopUp:ApiKey", "k"), ("Vendors:TopUp:RequestsPerSecond", "fast"));

        load.Should().Throw<ConfigurationException>().WithMessage("Vendors:TopUp:RequestsPerSecond*invalid*");
    }

    [Test]
    public void defaults_stay_under_the_gift_card_vendors_one_request_per_second_retry_three_times_and_never_print_the_secret()
    {
        var s = Load(("Vendors:GiftCard:BaseUrl", "http://127.0.0.1:5090/giftcard"), ("Vendors:GiftCard:ClientId", "c"), ("Vendors:GiftCard:ClientSecret", "very-secret"), ("Vendors:GiftCard:AccountId", "a"));

        s.GiftCard!.Http.RequestsPerSecond.Should().BeLessThan(1);
        s.GiftCard.Http.MaxRetries.Should().Be(3);
        s.GiftCard.Http.BaseUrl.ToString().Should().Be("http://127.0.0.1:5090/giftcard/");
        s.GiftCard.ToString().Should().NotContain("very-secret", "settings may end up in a log line");
    }
}
