using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Partners;

/// <summary>
/// RFC 9421 signed partner requests over real Kestrel: every refusal has its own 401 code and changes nothing (no nonce
/// spent, no event written); the SDK and a non-.NET signer are accepted; secrets never reach logs or tables in plaintext.
/// </summary>
public sealed class SignedRequestTests() : AdminApiFixture("partnersigning")
{
    private readonly List<string> issuedSecrets = [];

    [Test]
    public async Task a_request_signed_by_the_sdk_is_accepted_and_names_the_partner()
    {
        var (keyId, secret) = await NewPartner("sdk-co", "SDK Co");
        var before = await State();
        using var steller = StellerClient.Create(client.BaseAddress!, keyId, secret);

        var me = await steller.GetMe();

        me.Should().Be(new PartnerMe("sdk-co", "SDK Co", "active"));
        (await State()).Nonces.Should().Be(before.Nonces + 1, "an accepted request spends its nonce");
    }

    [Test]
    public async Task a_signed_request_with_a_body_is_accepted_when_its_content_digest_matches()
    {
        var (keyId, secret) = await NewPartner("body-co");
        var response = await client.SendAsync(await Signed(HttpMethod.Post, "/v1/test/echo?mode=x", keyId, secret, """{"name":"n","count":3}"""));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("partnerId").GetString().Should().Be("body-co");
    }

    [Test]
    public async Task an_unsigned_request_is_refused_with_signature_missing() =>
        await Refused(new HttpRequestMessage(HttpMethod.Get, "/v1/me"), "signature_missing");

    [Test]
    public async Task a_signature_made_with_another_secret_is_refused_with_signature_invalid()
    {
        var (keyId, _) = await NewPartner("wrong-secret-co");
        await Refused(await Signed(HttpMethod.Get, "/v1/me", keyId, "sk_not-the-secret"), "signature_invalid");
    }

    [Test]
    public async Task a_signed_request_altered_in_flight_is_refused_with_signature_invalid()
    {
        var (keyId, secret) = await NewPartner("tamper-co");
        var request = await Signed(HttpMethod.Get, "/v1/me?page=1", keyId, secret);
        request.RequestUri = new Uri(client.BaseAddress!, "/v1/me?page=2");
        await Refused(request, "signature_invalid");
    }

    [Test]
    public async Task a_signature_that_does_not_cover_the_request_target_or_the_body_digest_is_refused()
    {
        var (keyId, secret) = await NewPartner("coverage-co");
        var noTarget = await Signed(HttpMethod.Get, "/v1/me", keyId, secret);
        Rewrite(noTarget, keyId, secret, input => input.Replace(" \"@request-target\"", ""));
        await Refused(noTarget, "signature_invalid");

        var noDigest = await Signed(HttpMethod.Post, "/v1/test/echo", keyId, secret, """{"name":"n","count":1}""");
        Rewrite(noDigest, keyId, secret, input => input.Replace(" \"content-digest\"", ""));
        await Refused(noDigest, "signature_invalid");

        var noNonce = await Signed(HttpMethod.Get, "/v1/me", keyId, secret);
        Rewrite(noNonce, keyId, secret, input => System.Text.RegularExpressions.Regex.Replace(input, ";nonce=\"[^\"]*\"", ""));
        await Refused(noNonce, "signature_invalid");

        var otherAlg = await Signed(HttpMethod.Get, "/v1/me", keyId, secret);
        Rewrite(otherAlg, keyId, secret, input => input.Replace("hmac-sha256", "ed25519"));
        await Refused(otherAlg, "signature_invalid");
    }

    [Test]
    public async Task a_request_older_than_five_minutes_or_from_the_future_is_refused_with_signature_expired()
    {
        var (keyId, secret) = await NewPartner("clock-co");
        await Refused(await Signed(HttpMethod.Get, "/v1/me", keyId, secret, time: new ShiftedTime(TimeSpan.FromMinutes(-5.5))), "signature_expired");
        await Refused(await Signed(HttpMethod.Get, "/v1/me", keyId, secret, time: new ShiftedTime(TimeSpan.FromMinutes(2))), "signature_expired");
        (await client.SendAsync(await Signed(HttpMethod.Get, "/v1/me", keyId, secret, time: new ShiftedTime(TimeSpan.FromMinutes(-4)))))
            .StatusCode.Should().Be(HttpStatusCode.OK, "four minutes old is inside the window");
    }

    [Test]
    public async Task a_replayed_request_is_refused_with_nonce_reused()
    {
        var (keyId, secret) = await NewPartner("replay-co");
        var original = await Signed(HttpMethod.Get, "/v1/me", keyId, secret);
        var replay = Copy(original);
        (await client.SendAsync(original)).StatusCode.Should().Be(HttpStatusCode.OK);
        await Refused(replay, "nonce_reused");
    }

    [Test]
    public async Task an_invalid_signature_does_not_burn_its_nonce()
    {
        var (keyId, secret) = await NewPartner("burn-co");
        var good = await Signed(HttpMethod.Get, "/v1/me", keyId, secret);
        var forged = Copy(good);
        forged.Headers.Remove("Signature");
        forged.Headers.TryAddWithoutValidation("Signature", $"sig1=:{Convert.ToBase64String(new byte[32])}:");
        await Refused(forged, "signature_invalid");
        (await client.SendAsync(good)).StatusCode.Should().Be(HttpStatusCode.OK, "the forged copy must not have spent the genuine request's nonce");
    }

    [Test]
    public async Task an_unknown_key_is_refused_with_key_unknown()
    {
        await Refused(await Signed(HttpMethod.Get, "/v1/me", "pk_nobody_aaaaaaaaaaaaaaaaaaaa", "sk_x"), "key_unknown");
        await Refused(await Signed(HttpMethod.Get, "/v1/me", "not-even-shaped-right", "sk_x"), "key_unknown");
        var (keyId, secret) = await NewPartner("known-co");
        await Refused(await Signed(HttpMethod.Get, "/v1/me", keyId[..^3] + "zzz", secret), "key_unknown");
    }

    [Test]
    public async Task a_revoked_key_is_refused_from_the_next_request_on()
    {
        var (keyId, secret) = await NewPartner("revoke-co");
        (await client.SendAsync(await Signed(HttpMethod.Get, "/v1/me", keyId, secret))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.PostAsync($"/admin/partners/revoke-co/api-keys/{keyId}/revoke", null)).EnsureSuccessStatusCode();
        await Refused(await Signed(HttpMethod.Get, "/v1/me", keyId, secret), "key_revoked");
    }

    [Test]
    public async Task a_suspended_partner_is_refused_until_reactivated()
    {
        var (keyId, secret) = await NewPartner("suspend-co");
        (await client.PostAsJsonAsync("/admin/partners/suspend-co/suspend", new { reason = "fraud review" })).EnsureSuccessStatusCode();
        await Refused(await Signed(HttpMethod.Get, "/v1/me", keyId, secret), "partner_suspended");
        (await client.PostAsync("/admin/partners/suspend-co/reactivate", null)).EnsureSuccessStatusCode();
        (await client.SendAsync(await Signed(HttpMethod.Get, "/v1/me", keyId, secret))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task a_request_from_outside_the_ip_allowlist_is_refused_with_ip_not_allowed()
    {
        var (keyId, secret) = await NewPartner("allowlist-co");
        (await client.PutAsJsonAsync("/admin/partners/allowlist-co/ip-allowlist", new { cidrs = new[] { "10.0.0.0/8", "2001:db8::/32" } })).EnsureSuccessStatusCode();
        await Refused(await Signed(HttpMethod.Get, "/v1/me", keyId, secret), "ip_not_allowed");
        (await client.PutAsJsonAsync("/admin/partners/allowlist-co/ip-allowlist", new { cidrs = new[] { "127.0.0.0/8", "::1/128" } })).EnsureSuccessStatusCode();
        (await client.SendAsync(await Signed(HttpMethod.Get, "/v1/me", keyId, secret))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task a_body_that_does_not_match_its_signed_content_digest_is_refused_with_digest_mismatch()
    {
        var (keyId, secret) = await NewPartner("digest-co");
        var request = await Signed(HttpMethod.Post, "/v1/test/echo", keyId, secret, """{"name":"pay","count":1}""");
        var digest = request.Content!.Headers.GetValues("Content-Digest").Single();
        request.Content = new StringContent("""{"name":"pay","count":9}""", Encoding.UTF8, "application/json");
        request.Content.Headers.TryAddWithoutValidation("Content-Digest", digest); // signed header, different body
        await Refused(request, "digest_mismatch");
    }

    [Test]
    public async Task any_signature_label_is_accepted()
    {
        var (keyId, secret) = await NewPartner("label-co");
        using var http = new HttpClient(new SigningHandler(keyId, secret) { Label = "partner-sig" }) { BaseAddress = client.BaseAddress };
        (await http.GetAsync("/v1/me")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task a_request_signed_by_the_npm_library_http_message_signatures_is_accepted()
    {
        NpmSigner.RequireTools();
        var (keyId, secret) = await NewPartner("node-co", "Node Co");
        foreach (var (method, path, body) in new[] { ("GET", "/v1/me", (string?)null), ("POST", "/v1/test/echo?from=node", """{"name":"js","count":7}""") })
        {
            var request = await NpmSigner.Signed(method, new Uri(client.BaseAddress!, path).ToString(), keyId, secret, body);
            var response = await client.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"{method} {path}: {await response.Content.ReadAsStringAsync()} (signed with {request.Headers})");
        }
    }

    [Test]
    public async Task no_log_line_and_no_table_holds_an_api_secret_in_plaintext()
    {
        var (keyId, secret) = await NewPartner("leak-co");
        (await client.SendAsync(await Signed(HttpMethod.Get, "/v1/me", keyId, secret))).EnsureSuccessStatusCode();
        await client.SendAsync(await Signed(HttpMethod.Get, "/v1/me", keyId, secret + "x"));
        await client.SendAsync(await Signed(HttpMethod.Post, "/v1/test/echo", keyId, secret, """{"name":"n","count":1}"""));

        issuedSecrets.Should().NotBeEmpty();
        foreach (var s in issuedSecrets)
        {
            factory.Logs.Lines.Should().NotContain(l => l.Contains(s), "a secret must never be logged");
            (await db.Scalar<long>($"select count(*) from es.events where data::text like '%{s}%' or metadata::text like '%{s}%'")).Should().Be(0);
            foreach (var table in await db.TablesAndViews())
                (await db.Scalar<long>($"select count(*) from {table} t where t::text like '%{s}%'")).Should().Be(0, $"{table} must not hold a secret");
        }
        var issued = await db.Scalar<string>("select data::text from es.events where stream_id = 'partner-leak-co' and event_type = 'partner.api-key-issued.v1'");
        issued.Should().Contain("secretCiphertext").And.NotContain(secret);
    }

    // ---- helpers ----

    private async Task<(string KeyId, string Secret)> NewPartner(string id, string name = "Partner")
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = id, name, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        var key = await (await client.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        var secret = key.GetProperty("secret").GetString()!;
        issuedSecrets.Add(secret);
        return (key.GetProperty("keyId").GetString()!, secret);
    }

    private async Task<HttpRequestMessage> Signed(HttpMethod method, string path, string keyId, string secret, string? json = null, TimeProvider? time = null)
    {
        var request = new HttpRequestMessage(method, new Uri(client.BaseAddress!, path));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        await new SigningHandler(keyId, secret, time).Sign(request);
        return request;
    }

    /// <summary>Re-signs the request after <paramref name="edit"/> changed its Signature-Input (a genuine signer making a bad choice).</summary>
    private static void Rewrite(HttpRequestMessage request, string keyId, string secret, Func<string, string> edit)
    {
        var input = edit(request.Headers.GetValues("Signature-Input").Single());
        var label = input[..input.IndexOf('=')];
        var parameters = input[(label.Length + 1)..];
        var components = System.Text.RegularExpressions.Regex.Matches(parameters[..(parameters.IndexOf(')') + 1)], "\"([^\"]+)\"").Select(m => m.Groups[1].Value);
        var lines = components.Select(c => c switch
        {
            "@method" => $"\"@method\": {request.Method.Method}",
            "@request-target" => $"\"@request-target\": {request.RequestUri!.PathAndQuery}",
            _ => $"\"{c}\": {string.Join(", ", request.Content!.Headers.GetValues(c))}",
        });
        var signatureBase = string.Concat(lines.Select(l => l + "\n")) + $"\"@signature-params\": {parameters}";
        var signature = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(signatureBase));
        request.Headers.Remove("Signature-Input");
        request.Headers.Remove("Signature");
        request.Headers.TryAddWithoutValidation("Signature-Input", input);
        request.Headers.TryAddWithoutValidation("Signature", $"{label}=:{Convert.ToBase64String(signature)}:");
    }

    private static HttpRequestMessage Copy(HttpRequestMessage original)
    {
        var copy = new HttpRequestMessage(original.Method, original.RequestUri);
        foreach (var (name, values) in original.Headers) copy.Headers.TryAddWithoutValidation(name, values);
        return copy;
    }

    private async Task Refused(HttpRequestMessage request, string code)
    {
        var before = await State();
        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, body);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
        (await State()).Should().Be(before, "a refused request changes nothing: no nonce spent, no event written");
    }

    private sealed record Snapshot(long Nonces, long Events, string NonceDigest);

    private async Task<Snapshot> State() => new(
        await db.Scalar<long>("select count(*) from steller.signature_nonces"),
        await db.Scalar<long>("select count(*) from es.events"),
        await db.Scalar<string>("select coalesce(md5(string_agg(key_id || nonce || expires_at::text, ',' order by key_id, nonce)), '') from steller.signature_nonces") ?? "");

    private sealed class ShiftedTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
