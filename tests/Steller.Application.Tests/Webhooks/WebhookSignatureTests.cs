using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Webhooks;

namespace Steller.Application.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    [Test]
    public void the_standard_webhooks_specification_example_is_signed_to_its_published_signature() =>
        WebhookSignature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}""")
            .Should().Be("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

    [Test]
    public void during_a_rotation_the_header_carries_one_space_separated_entry_per_secret()
    {
        var (a, b) = (WebhookSignature.NewSecret(), WebhookSignature.NewSecret());
        var header = WebhookSignature.Header([a, b], "msg_x", 1700000000, "{}");
        header.Split(' ').Should().Equal(WebhookSignature.Sign(a, "msg_x", 1700000000, "{}"), WebhookSignature.Sign(b, "msg_x", 1700000000, "{}"));
    }

    [Test]
    public void a_new_secret_is_whsec_and_base64_of_32_random_bytes()
    {
        var secret = WebhookSignature.NewSecret();
        secret.Should().StartWith("whsec_");
        Convert.FromBase64String(secret["whsec_".Length..]).Should().HaveCount(32);
        WebhookSignature.NewSecret().Should().NotBe(secret);
    }

    [Test]
    public void the_webhook_id_is_derived_from_the_event_and_the_endpoint()
    {
        var (e1, e2) = (Guid.NewGuid(), Guid.NewGuid());
        WebhookIds.MessageId(e1, "ep_a").Should().Be(WebhookIds.MessageId(e1, "ep_a")).And.MatchRegex("^msg_[a-z2-7]{26}$");
        WebhookIds.MessageId(e1, "ep_b").Should().NotBe(WebhookIds.MessageId(e1, "ep_a"));
        WebhookIds.MessageId(e2, "ep_a").Should().NotBe(WebhookIds.MessageId(e1, "ep_a"));
    }

    [TestCase("https://hooks.example.com/x", false, null)]
    [TestCase("http://hooks.example.com/x", false, "must be https")]
    [TestCase("http://127.0.0.1:9000/x", true, null)]
    [TestCase("https://user:pw@hooks.example.com/x", true, "no user name or password in the URL")]
    [TestCase("https://hooks.example.com/x#frag", false, "no fragment")]
    [TestCase("hooks.example.com/x", true, "an absolute http(s) URL")]
    [TestCase("https://metadata.google.internal/x", false, "must not name a local or internal host")]
    public void a_target_url_is_checked_against_the_sandbox_flag(string url, bool allowPrivate, string? problem) =>
        WebhookTargets.Problem(url, allowPrivate).Should().Be(problem);
}
