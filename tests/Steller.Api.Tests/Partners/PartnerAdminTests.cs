using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Api.Tests.Partners;

/// <summary>The admin partner API over real Kestrel: onboarding, keys, margin, allowlist, suspension, and the problems bad input gets.</summary>
public sealed class PartnerAdminTests() : AdminApiFixture("partneradmin")
{

    [Test]
    public async Task a_partner_is_onboarded_configured_and_read_back_without_any_secret()
    {
        var created = await client.PostAsJsonAsync("/admin/partners", new { partnerId = "globex", name = "Globex", contactEmail = "it@globex.test" });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        created.Headers.Location!.ToString().Should().Be("/admin/partners/globex");

        var key = await (await client.PostAsync("/admin/partners/globex/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        var keyId = key.GetProperty("keyId").GetString()!;
        keyId.Should().StartWith("pk_globex_");
        key.GetProperty("secret").GetString().Should().MatchRegex("^sk_[A-Za-z0-9_-]{43}$");

        (await client.PutAsJsonAsync("/admin/partners/globex/margin", new { basis = "cost-plus", basisPoints = 350 })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.PutAsJsonAsync("/admin/partners/globex/ip-allowlist", new { cidrs = new[] { "203.0.113.0/24", "198.51.100.7" } })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.PostAsJsonAsync("/admin/partners/globex/suspend", new { reason = "unpaid invoice" })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.PostAsync("/admin/partners/globex/reactivate", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.PostAsJsonAsync($"/admin/partners/globex/api-keys/{keyId}/revoke", new { reason = "rotated" })).StatusCode.Should().Be(HttpStatusCode.OK);

        var response = await client.GetAsync("/admin/partners/globex");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.ETag!.Tag.Should().Be("\"6\"");
        var text = await response.Content.ReadAsStringAsync();
        text.Should().NotContain(key.GetProperty("secret").GetString()!).And.NotContain("ciphertext", "the admin view shows no secret material");
        var partner = JsonDocument.Parse(text).RootElement;
        partner.GetProperty("name").GetString().Should().Be("Globex");
        partner.GetProperty("status").GetString().Should().Be("active");
        partner.GetProperty("margin").GetProperty("basisPoints").GetInt32().Should().Be(350);
        partner.GetProperty("ipAllowlist").EnumerateArray().Select(e => e.GetString()).Should().Equal("203.0.113.0/24", "198.51.100.7/32");
        partner.GetProperty("apiKeys")[0].GetProperty("revoked").GetBoolean().Should().BeTrue();
    }

    [Test]
    public async Task onboarding_without_an_id_generates_one_and_a_sub_partner_needs_an_existing_parent()
    {
        var agency = await (await client.PostAsJsonAsync("/admin/partners", new { name = "Agency", contactEmail = "a@agency.test" })).Content.ReadFromJsonAsync<JsonElement>();
        var agencyId = agency.GetProperty("partnerId").GetString()!;
        agencyId.Should().MatchRegex("^p-[a-z2-7]{20}$");

        var child = await client.PostAsJsonAsync("/admin/partners", new { partnerId = "agency-child", name = "Child", contactEmail = "c@agency.test", parentPartnerId = agencyId });
        child.StatusCode.Should().Be(HttpStatusCode.Created);
        (await child.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("parentPartnerId").GetString().Should().Be(agencyId);

        await Expect(await client.PostAsJsonAsync("/admin/partners", new { partnerId = "orphan", name = "O", contactEmail = "o@x.test", parentPartnerId = "no-such-agency" }),
            HttpStatusCode.BadRequest, "parent_not_found");
    }

    [Test]
    public async Task bad_input_is_a_4xx_problem_naming_it()
    {
        await Expect(await client.PostAsJsonAsync("/admin/partners", new { partnerId = "Bad_Id", name = "x", contactEmail = "x@y.test" }), HttpStatusCode.BadRequest, "invalid_partner_id");
        await Expect(await client.PostAsJsonAsync("/admin/partners", new { partnerId = "noname", contactEmail = "x@y.test" }), HttpStatusCode.BadRequest, "invalid_name");
        await Expect(await client.PostAsJsonAsync("/admin/partners", new { partnerId = "nomail", name = "x", contactEmail = "nope" }), HttpStatusCode.BadRequest, "invalid_email");
        await Expect(await client.PostAsync("/admin/partners", new StringContent("{", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "malformed_json");

        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = "initech", name = "Initech", contactEmail = "x@initech.test" })).EnsureSuccessStatusCode();
        await Expect(await client.PostAsJsonAsync("/admin/partners", new { partnerId = "initech", name = "Other", contactEmail = "x@initech.test" }), HttpStatusCode.Conflict, "partner_exists");
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = "initech", name = "Initech", contactEmail = "x@initech.test" })).StatusCode
            .Should().Be(HttpStatusCode.Created, "the same onboarding again is a no-op");
        await Expect(await client.PutAsJsonAsync("/admin/partners/initech/margin", new { basis = "markup", basisPoints = 1 }), HttpStatusCode.BadRequest, "invalid_margin");
        await Expect(await client.PutAsJsonAsync("/admin/partners/initech/margin", new { basis = "cost-plus", basisPoints = 10_001 }), HttpStatusCode.BadRequest, "invalid_margin");
        await Expect(await client.PutAsJsonAsync("/admin/partners/initech/ip-allowlist", new { cidrs = new[] { "10.0.0.1/8" } }), HttpStatusCode.BadRequest, "invalid_cidr");
        await Expect(await client.PostAsJsonAsync("/admin/partners/initech/suspend", new { reason = "" }), HttpStatusCode.BadRequest, "invalid_reason");
        await Expect(await client.PostAsync("/admin/partners/initech/api-keys/pk_initech_nope/revoke", null), HttpStatusCode.NotFound, "api_key_not_found");
        await Expect(await client.GetAsync("/admin/partners/nobody"), HttpStatusCode.NotFound, "partner_not_found");
        await Expect(await client.PostAsync("/admin/partners/nobody/api-keys", null), HttpStatusCode.NotFound, "partner_not_found");

        (await client.PostAsJsonAsync("/admin/partners/initech/suspend", new { reason = "audit" })).EnsureSuccessStatusCode();
        await Expect(await client.PostAsync("/admin/partners/initech/api-keys", null), HttpStatusCode.Conflict, "partner_suspended");
    }

    [Test]
    public async Task every_partner_event_carries_metadata_with_the_correlation_id_and_the_actor()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/admin/partners") { Content = JsonContent.Create(new { partnerId = "hooli", name = "Hooli", contactEmail = "x@hooli.test" }) };
        request.Headers.Add("X-Correlation-Id", "onboard-hooli-1");
        (await client.SendAsync(request)).EnsureSuccessStatusCode();
        var metadata = JsonDocument.Parse(await db.Scalar<string>("select metadata::text from es.events where stream_id = 'partner-hooli'") ?? "{}").RootElement;
        metadata.GetProperty("correlationId").GetString().Should().Be("onboard-hooli-1");
        metadata.GetProperty("actor").GetString().Should().StartWith("admin:test-admin-", "the actor is the admin token that sent the command");
    }

    [Test]
    public async Task concurrent_commands_on_one_partner_are_re_decided_not_lost()
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = "busy-co", name = "Busy", contactEmail = "x@busy.test" })).EnsureSuccessStatusCode();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => client.PostAsync("/admin/partners/busy-co/api-keys", null)));

        responses.Select(r => (int)r.StatusCode).Should().OnlyContain(s => s == 201 || s == 409, "a lost race is re-decided or a clean 409, never a 500");
        var issued = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        issued.Should().BeGreaterThan(0);
        var partner = await client.GetFromJsonAsync<JsonElement>("/admin/partners/busy-co");
        partner.GetProperty("apiKeys").GetArrayLength().Should().Be(issued, "every key reported as issued is in the stream");
    }

    [Test]
    public async Task a_stale_if_match_on_a_partner_command_answers_412_with_the_current_etag_and_appends_nothing()
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = "pied-piper", name = "Pied Piper", contactEmail = "it@pied-piper.test" })).EnsureSuccessStatusCode();
        var read = await client.GetAsync("/admin/partners/pied-piper");
        var etag = read.Headers.ETag!.Tag;
        (await client.PutAsJsonAsync("/admin/partners/pied-piper/margin", new { basis = "cost-plus", basisPoints = 100 })).EnsureSuccessStatusCode();

        foreach (var stale in new Func<HttpRequestMessage>[]
                 {
                     () => new(HttpMethod.Put, "/admin/partners/pied-piper/margin") { Content = JsonContent.Create(new { basis = "cost-plus", basisPoints = 900 }) },
                     () => new(HttpMethod.Post, "/admin/partners/pied-piper/suspend") { Content = JsonContent.Create(new { reason = "stale" }) },
                     () => new(HttpMethod.Post, "/admin/partners/pied-piper/api-keys"),
                 })
        {
            var request = stale();
            request.Headers.TryAddWithoutValidation("If-Match", etag);
            var refused = await client.SendAsync(request);
            await Expect(refused, HttpStatusCode.PreconditionFailed, "precondition_failed");
            refused.Headers.ETag!.Tag.Should().Be("\"1\"", "the 412 carries the current ETag");
        }

        var after = await client.GetAsync("/admin/partners/pied-piper");
        after.Headers.ETag!.Tag.Should().Be("\"1\"", "nothing was appended");
        var partner = await after.Content.ReadFromJsonAsync<JsonElement>();
        partner.GetProperty("margin").GetProperty("basisPoints").GetInt32().Should().Be(100);
        partner.GetProperty("status").GetString().Should().Be("active");
        partner.GetProperty("apiKeys").GetArrayLength().Should().Be(0);

        var current = new HttpRequestMessage(HttpMethod.Post, "/admin/partners/pied-piper/suspend") { Content = JsonContent.Create(new { reason = "unpaid" }) };
        current.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        var suspended = await client.SendAsync(current);
        suspended.StatusCode.Should().Be(HttpStatusCode.OK);
        suspended.Headers.ETag!.Tag.Should().Be("\"2\"");
    }

    private static async Task Expect(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, body);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
    }
}
