using System.Net;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Partners;

namespace Steller.Domain.Tests.Partners;

public sealed class PartnerTests : PartnerSpec
{
    private static readonly ApiKeyIssued Key = new("pk_acme_k1", "ring-1", "Y2lwaGVy", Now.AddHours(-1));

    [Test]
    public void a_partner_is_onboarded_with_name_contact_and_optional_parent() =>
        GivenNoPartner().When(new OnboardPartner("sub-1", " Sub One ", "a@b.test", "agency-1", Now))
            .Then(new PartnerOnboarded("sub-1", "Sub One", "a@b.test", "agency-1", Now))
            .AndState(p => { p.Exists.Should().BeTrue(); p.Status.Should().Be(PartnerStatus.Active); });

    [Test]
    public void onboarding_twice_with_the_same_details_is_a_no_op_and_with_others_a_conflict()
    {
        Given().When(new OnboardPartner("acme", "Acme Gifts", "ops@acme.test", null, Now)).ThenNothingNew();
        Given().When(new OnboardPartner("acme", "Other", "ops@acme.test", null, Now)).ThenFails(PartnerErrors.AlreadyOnboarded);
    }

    [TestCase("", "n@x.io", "invalid_partner_id")]
    [TestCase("Upper", "n@x.io", "invalid_partner_id")]
    [TestCase("has_underscore", "n@x.io", "invalid_partner_id")]
    [TestCase("ok", "not-an-email", "invalid_email")]
    [TestCase("ok", "a@b", "invalid_email")]
    public void onboarding_refuses_bad_details(string id, string email, string code) =>
        GivenNoPartner().When(new OnboardPartner(id, "Name", email, null, Now)).ThenFails(new[] { PartnerErrors.InvalidPartnerId, PartnerErrors.InvalidEmail }.Single(e => e.Code == code));

    [Test]
    public void a_blank_name_and_a_self_parent_are_refused()
    {
        GivenNoPartner().When(new OnboardPartner("p", "  ", "a@b.io", null, Now)).ThenFails(PartnerErrors.InvalidName);
        GivenNoPartner().When(new OnboardPartner("p", "P", "a@b.io", "p", Now)).ThenFails(PartnerErrors.InvalidParent);
    }

    [Test]
    public void every_other_command_needs_an_onboarded_partner() =>
        GivenNoPartner().When(new SuspendPartner("fraud", Now)).ThenFails(PartnerErrors.NotFound);

    [Test]
    public void an_issued_key_holds_only_the_ciphertext() =>
        Given().When(new IssueApiKey("pk_acme_k1", "ring-1", "Y2lwaGVy", Now))
            .Then(new ApiKeyIssued("pk_acme_k1", "ring-1", "Y2lwaGVy", Now))
            .AndState(p => p.ApiKeys["pk_acme_k1"].Revoked.Should().BeFalse());

    [Test]
    public void reissuing_a_key_id_is_a_no_op_with_the_same_ciphertext_and_a_conflict_otherwise()
    {
        Given(Key).When(new IssueApiKey(Key.KeyId, Key.EncryptionKeyId, Key.SecretCiphertext, Now)).ThenNothingNew();
        Given(Key).When(new IssueApiKey(Key.KeyId, Key.EncryptionKeyId, "b3RoZXI=", Now)).ThenFails(PartnerErrors.ApiKeyExists);
    }

    [Test]
    public void a_suspended_partner_gets_no_new_keys() =>
        Given(new PartnerSuspended("fraud", Now)).When(new IssueApiKey("pk_acme_k2", "ring-1", "eA==", Now)).ThenFails(PartnerErrors.Suspended);

    [Test]
    public void revoking_a_key_marks_it_revoked_and_revoking_again_is_a_no_op()
    {
        Given(Key).When(new RevokeApiKey(Key.KeyId, "leaked", Now))
            .Then(new ApiKeyRevoked(Key.KeyId, "leaked", Now))
            .AndState(p => p.ApiKeys[Key.KeyId].Revoked.Should().BeTrue())
            .When(new RevokeApiKey(Key.KeyId, null, Now)).ThenNothingNew();
    }

    [Test]
    public void a_capped_issue_is_refused_once_the_partner_has_that_many_active_keys_and_revoked_keys_do_not_count()
    {
        ApiKeyIssued K(int i) => new($"pk_acme_k{i}", "ring-1", "eA==", Now);
        Given(K(1), K(2), K(3), K(4), K(5)).When(new IssueApiKey("pk_acme_k6", "ring-1", "eA==", Now, MaxActiveKeys: 5))
            .ThenFails(PartnerErrors.TooManyApiKeys);
        Given(K(1), K(2), K(3), K(4), K(5), new ApiKeyRevoked("pk_acme_k2", null, Now))
            .When(new IssueApiKey("pk_acme_k6", "ring-1", "eA==", Now, MaxActiveKeys: 5))
            .Then(new ApiKeyIssued("pk_acme_k6", "ring-1", "eA==", Now));
        Given(K(1), K(2), K(3), K(4), K(5)).When(new IssueApiKey("pk_acme_k6", "ring-1", "eA==", Now))
            .Then(new ApiKeyIssued("pk_acme_k6", "ring-1", "eA==", Now));
    }

    [Test]
    public void the_key_signing_a_revocation_cannot_revoke_itself_but_can_revoke_another() =>
        Given(Key, new ApiKeyIssued("pk_acme_k2", "ring-1", "eA==", Now))
            .When(new RevokeApiKey(Key.KeyId, null, Now, SigningKeyId: Key.KeyId)).ThenFails(PartnerErrors.CannotRevokeCurrentKey)
            .When(new RevokeApiKey(Key.KeyId, null, Now, SigningKeyId: "pk_acme_k2")).Then(new ApiKeyRevoked(Key.KeyId, null, Now));

    [Test]
    public void a_rate_limit_is_1_to_100000_per_second_with_a_burst_of_1_to_1000000_and_setting_it_again_is_a_no_op()
    {
        Given().When(new SetRateLimit(10, 20)).Then(new RateLimitSet(10, 20))
            .AndState(p => p.RateLimit.Should().Be(new RateLimit(10, 20)))
            .When(new SetRateLimit(10, 20)).ThenNothingNew();
        Given().When(new SetRateLimit(0, 20)).ThenFails(PartnerErrors.InvalidRateLimit);
        Given().When(new SetRateLimit(10, 0)).ThenFails(PartnerErrors.InvalidRateLimit);
        Given().When(new SetRateLimit(100_001, 5)).ThenFails(PartnerErrors.InvalidRateLimit);
    }

    [Test]
    public void revoking_an_unknown_key_is_refused() =>
        Given().When(new RevokeApiKey("pk_acme_nope", null, Now)).ThenFails(PartnerErrors.ApiKeyNotFound);

    [Test]
    public void a_margin_is_a_known_basis_and_0_to_10000_basis_points()
    {
        Given().When(new SetMargin(MarginBasis.CostPlus, 250)).Then(new MarginSet("cost-plus", 250))
            .When(new SetMargin(MarginBasis.CostPlus, 250)).ThenNothingNew();
        Given().When(new SetMargin(MarginBasis.DiscountShare, 5_000)).Then(new MarginSet("discount-share", 5_000));
        Given().When(new SetMargin("markup", 10)).ThenFails(PartnerErrors.InvalidMargin);
        Given().When(new SetMargin(MarginBasis.CostPlus, -1)).ThenFails(PartnerErrors.InvalidMargin);
        Given().When(new SetMargin(MarginBasis.CostPlus, 10_001)).ThenFails(PartnerErrors.InvalidMargin);
    }

    [Test]
    public void an_allowlist_is_normalised_and_matched_by_address()
    {
        Given().When(new SetIpAllowlist([" 203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "203.0.113.0/24"]))
            .Then(new IpAllowlistSet(["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"]))
            .AndState(p =>
            {
                p.Allows(IPAddress.Parse("203.0.113.9")).Should().BeTrue();
                p.Allows(IPAddress.Parse("::ffff:198.51.100.7")).Should().BeTrue("IPv4-mapped addresses match IPv4 ranges");
                p.Allows(IPAddress.Parse("2001:db8::1")).Should().BeTrue();
                p.Allows(IPAddress.Parse("127.0.0.1")).Should().BeFalse();
            });
    }

    [Test]
    public void an_empty_allowlist_allows_every_address() =>
        Given(new IpAllowlistSet(["10.0.0.0/8"])).When(new SetIpAllowlist([]))
            .Then(new IpAllowlistSet([]))
            .AndState(p => p.Allows(IPAddress.Parse("192.0.2.1")).Should().BeTrue());

    [TestCase("10.0.0.1/8")]
    [TestCase("10.0.0.0/33")]
    [TestCase("nonsense")]
    [TestCase("")]
    public void a_bad_cidr_is_refused(string cidr) =>
        Given().When(new SetIpAllowlist(["10.0.0.0/8", cidr])).ThenFails(PartnerErrors.InvalidCidr);

    [Test]
    public void suspension_and_reactivation_toggle_the_status_and_repeat_as_no_ops() =>
        Given().When(new SuspendPartner("chargebacks", Now)).Then(new PartnerSuspended("chargebacks", Now))
            .AndState(p => p.Status.Should().Be(PartnerStatus.Suspended))
            .When(new SuspendPartner("again", Now)).ThenNothingNew()
            .When(new ReactivatePartner(Now)).Then(new PartnerReactivated(Now))
            .AndState(p => p.Status.Should().Be(PartnerStatus.Active))
            .When(new ReactivatePartner(Now)).ThenNothingNew();

    [Test]
    public void a_suspension_needs_a_reason() =>
        Given().When(new SuspendPartner(" ", Now)).ThenFails(PartnerErrors.InvalidReason);

    [Test]
    public void the_first_completed_order_activates_the_partner_and_later_ones_change_nothing() =>
        Given().When(new ActivatePartner("ord-1", Now)).Then(new PartnerActivated("ord-1", Now))
            .AndState(p => p.ActivatedAt.Should().Be(Now))
            .When(new ActivatePartner("ord-2", Now.AddMinutes(1))).ThenNothingNew()
            .AndState(p => p.ActivatedAt.Should().Be(Now));

    [Test]
    public void a_partner_never_onboarded_cannot_be_activated() =>
        GivenNoPartner().When(new ActivatePartner("ord-1", Now)).ThenFails(PartnerErrors.NotFound);
}
