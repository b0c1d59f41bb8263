using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Client;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Api.Tests.Partners;

/// <summary>
/// A partner manages its own API keys over the signed /v1 API (GET/POST /v1/api-keys, POST /v1/api-keys/{id}/revoke), signed
/// by the npm RFC 9421 library. Key usage is flushed only by hand here (Partners:KeyUsageFlushSeconds is an hour), so the
/// tests can tell a note in memory from a write.
/// </summary>
public sealed class ApiKeySelfServiceTests() : AdminApiFixture("partnerkeys")
{

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Partners:KeyUsageFlushSeconds"] = "3600" };

    [Test]
    public async Task a_partner_creates_uses_lists_and_revokes_its_own_keys_signed_by_the_npm_library()
    {
        NpmSigner.RequireTools();
        var (a, secretA) = await NewPartner("self-co");

        // List with key A: the request itself is A's latest use.
        var first = await List(a, secretA);
        first.Items.Should().ContainSingle().Which.Should().Match<Key>(k => k.KeyId == a && k.Status == "active" && k.LastUsedAt != null);
        var aFirstUse = first.Items[0].LastUsedAt!.Value;

        // Create key B with A; the secret is in that answer only.
        var created = await Send("POST", "/v1/api-keys", a, secretA);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var b = await created.Content.ReadFromJsonAsync<JsonElement>();
        var (keyB, secretB) = (b.GetProperty("keyId").GetString()!, b.GetProperty("secret").GetString()!);
        keyB.Should().StartWith("pk_self-co_");
        secretB.Should().StartWith("sk_");

        // Use B.
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        (await Send("GET", "/v1/me", keyB, secretB)).StatusCode.Should().Be(HttpStatusCode.OK);

        // List: B was used, A's last use moved on; no secret, no ciphertext anywhere in the answer.
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        var listing = await Send("GET", "/v1/api-keys", a, secretA);
        var raw = await listing.Content.ReadAsStringAsync();
        raw.Should().NotContain(secretA).And.NotContain(secretB).And.NotContain("sk_").And.NotContainEquivalentOf("ciphertext");
        var second = JsonSerializer.Deserialize<KeyList>(raw, Json)!;
        second.Items.Select(k => k.KeyId).Should().Equal(a, keyB);
        second.Items[0].LastUsedAt.Should().BeAfter(aFirstUse, "listing with A is a use of A");
        second.Items[1].LastUsedAt.Should().NotBeNull().And.BeBefore(second.Items[0].LastUsedAt!.Value);
        second.ActiveCount.Should().Be(2);

        // The key signing a revocation cannot revoke itself.
        var self = await Send("POST", $"/v1/api-keys/{a}/revoke", a, secretA);
        await ExpectProblem(self, HttpStatusCode.Conflict, "cannot_revoke_current_key");

        // A revokes B; B is refused from then on.
        var revoked = await Send("POST", $"/v1/api-keys/{keyB}/revoke", a, secretA, """{"reason":"rotated"}""");
        revoked.StatusCode.Should().Be(HttpStatusCode.OK, await revoked.Content.ReadAsStringAsync());
        (await revoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString().Should().Be("revoked");
        var refused = await Send("GET", "/v1/me", keyB, secretB);
        refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("key_revoked");

        var third = await List(a, secretA);
        third.Items.Single(k => k.KeyId == keyB).Should().Match<Key>(k => k.Status == "revoked" && k.RevokedAt != null);
        third.ActiveCount.Should().Be(1);

        // Audited with the admin commands: actor, role partner, the signing key, the outcome.
        var audit = await client.GetFromJsonAsync<JsonElement>("/admin/audit?actor=partner:self-co");
        var rows = audit.GetProperty("items").EnumerateArray()
            .Select(i => (Route: i.GetProperty("route").GetString(), Status: i.GetProperty("status").GetInt32(),
                Key: i.GetProperty("apiKeyId").GetString(), Role: i.GetProperty("role").GetString())).Reverse().ToList();
        rows.Should().Equal(
            ("/v1/api-keys/", 201, a, "partner"),
            ("/v1/api-keys/{keyId}/revoke", 409, a, "partner"),
            ("/v1/api-keys/{keyId}/revoke", 200, a, "partner"));
        (await db.Scalar<string>($"select metadata->>'actor' from es.events where stream_id = 'partner-self-co' and data->>'keyId' = '{keyB}' and event_type = 'partner.api-key-revoked.v1'"))
            .Should().Be("partner:self-co");
    }

    [Test]
    public async Task last_used_is_noted_in_memory_on_each_request_and_written_in_one_flush()
    {
        var (keyId, secret) = await NewPartner("usage-co");
        using var steller = StellerClient.Create(client.BaseAddress!, keyId, secret);
        for (var i = 0; i < 20; i++) await steller.GetMe();

        (await db.Scalar<long>($"select count(*) from steller.api_key_usage where key_id = '{keyId}'"))
            .Should().Be(0, "a request writes nothing: its use is only noted in memory");
        var shown = (await List(keyId, secret, sdk: true)).Items.Single().LastUsedAt;
        shown.Should().NotBeNull("the node that saw the use shows it before any flush");

        await factory.Services.GetRequiredService<PostgresApiKeyUsage>().Flush();

        var stored = await db.Scalar<DateTime>($"select last_used_at from steller.api_key_usage where key_id = '{keyId}'");
        new DateTimeOffset(stored, TimeSpan.Zero).Should().BeCloseTo(shown!.Value, TimeSpan.FromMilliseconds(1));
    }

    [Test]
    public async Task a_partner_may_hold_at_most_five_active_keys_and_revoking_one_makes_room()
    {
        var (keyId, secret) = await NewPartner("many-co");
        using var http = new HttpClient(new SigningHandler(keyId, secret)) { BaseAddress = client.BaseAddress };
        var extra = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var created = await http.PostAsync("/v1/api-keys", null);
            created.StatusCode.Should().Be(HttpStatusCode.Created);
            extra.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("keyId").GetString()!);
        }
        await ExpectProblem(await http.PostAsync("/v1/api-keys", null), HttpStatusCode.Conflict, "too_many_api_keys");

        (await http.PostAsync($"/v1/api-keys/{extra[0]}/revoke", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.PostAsync("/v1/api-keys", null)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await db.Scalar<long>("select count(*) from es.events where stream_id = 'partner-many-co' and event_type = 'partner.api-key-issued.v1'"))
            .Should().Be(6, "the refused sixth key was never recorded");
    }

    [Test]
    public async Task a_partner_neither_sees_nor_revokes_another_partners_keys()
    {
        var (mine, mySecret) = await NewPartner("mine-co");
        var (theirs, _) = await NewPartner("theirs-co");
        using var http = new HttpClient(new SigningHandler(mine, mySecret)) { BaseAddress = client.BaseAddress };

        var list = await http.GetFromJsonAsync<KeyList>("/v1/api-keys", Json);
        list!.Items.Select(k => k.KeyId).Should().Equal(mine);
        await ExpectProblem(await http.PostAsync($"/v1/api-keys/{theirs}/revoke", null), HttpStatusCode.NotFound, "api_key_not_found");
        (await db.Scalar<long>("select count(*) from es.events where stream_id = 'partner-theirs-co' and event_type = 'partner.api-key-revoked.v1'"))
            .Should().Be(0);
    }

    // ---- helpers ----

    private sealed record Key(string KeyId, string Status, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);
    private sealed record KeyList(IReadOnlyList<Key> Items, int ActiveCount, int MaxActive);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private async Task<(string KeyId, string Secret)> NewPartner(string id)
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        var key = await (await client.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return (key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
    }

    private async Task<HttpResponseMessage> Send(string method, string path, string keyId, string secret, string? body = null) =>
        await client.SendAsync(await NpmSigner.Signed(method, new Uri(client.BaseAddress!, path).ToString(), keyId, secret, body));

    private async Task<KeyList> List(string keyId, string secret, bool sdk = false)
    {
        HttpResponseMessage response;
        if (sdk)
        {
            using var http = new HttpClient(new SigningHandler(keyId, secret)) { BaseAddress = client.BaseAddress };
            response = await http.GetAsync("/v1/api-keys");
        }
        else response = await Send("GET", "/v1/api-keys", keyId, secret);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<KeyList>(Json))!;
    }

    private static async Task ExpectProblem(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
    }
}
