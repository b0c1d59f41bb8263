using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;

namespace Steller.Api.Tests.Admin;

/// <summary>Admins manage admin tokens over HTTP (GET/POST /admin/tokens, revoke), with expiry dates on the controllable clock.</summary>
public sealed class AdminTokenTests() : AdminApiFixture("admin_tokens")
{
    [Test]
    public async Task a_token_created_over_http_works_is_listed_without_its_secret_and_stops_working_when_revoked()
    {
        var created = await Create(new { name = "carol@support", role = "support" });
        var token = created.GetProperty("token").GetString()!;
        var id = created.GetProperty("id").GetString()!;
        created.GetProperty("expiresAt").GetDateTime().Should().BeCloseTo(factory.Clock.UtcNow.UtcDateTime.AddDays(90), TimeSpan.FromMinutes(1),
            "a token made over HTTP expires in 90 days unless told otherwise");

        using var carol = Client(token);
        (await carol.GetAsync("/admin/partners")).StatusCode.Should().Be(HttpStatusCode.OK, "support may list partners");
        (await carol.GetAsync("/admin/tokens")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "only admins manage tokens");

        var listed = await client.GetStringAsync("/admin/tokens");
        listed.Should().Contain(id).And.NotContain(token).And.NotContain(token["stl_admin_".Length..]);

        (await client.PostAsync($"/admin/tokens/{id}/revoke", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await carol.GetAsync("/admin/partners")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await client.PostAsync($"/admin/tokens/{id}/revoke", null)).StatusCode.Should().Be(HttpStatusCode.NotFound, "already revoked");
    }

    [Test]
    public async Task a_token_stops_working_at_its_expiry_and_its_name_is_free_again()
    {
        var created = await Create(new { name = "temp@finance", role = "finance", expiresAt = factory.Clock.UtcNow.AddHours(1) });
        using var temp = Client(created.GetProperty("token").GetString()!);
        (await temp.GetAsync("/admin/partners")).StatusCode.Should().Be(HttpStatusCode.OK);

        factory.Clock.Advance(TimeSpan.FromHours(2));
        using var expired = await temp.GetAsync("/admin/partners");
        expired.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await expired.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("admin_token_invalid");

        (await Create(new { name = "temp@finance", role = "finance" })).GetProperty("name").GetString().Should().Be("temp@finance");
    }

    [Test]
    public async Task the_token_of_the_request_cannot_revoke_itself()
    {
        var me = (await client.GetFromJsonAsync<JsonElement>("/admin/tokens")).GetProperty("items").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString()!.StartsWith("test-admin") && t.GetProperty("revokedAt").ValueKind == JsonValueKind.Null);
        using var response = await client.PostAsync($"/admin/tokens/{me.GetProperty("id").GetString()}/revoke", null);
        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("cannot_revoke_current_token");
    }

    [TestCase("""{"name":"","role":"admin"}""", 400, "invalid_name")]
    [TestCase("""{"name":"x\u0001y","role":"admin"}""", 400, "validation_failed")]
    [TestCase("""{"name":"ok","role":"root"}""", 400, "invalid_role")]
    [TestCase("""{"name":"ok","role":"admin","expiresAt":"2000-01-01T00:00:00Z"}""", 400, "invalid_expiry")]
    [TestCase("""{"name":"ok","role":"admin","expiresAt":"2999-01-01T00:00:00Z"}""", 400, "invalid_expiry")]
    public async Task a_bad_token_request_is_refused_naming_the_problem(string body, int status, string code)
    {
        using var response = await client.PostAsync("/admin/tokens", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        ((int)response.StatusCode).Should().Be(status);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(code);
    }

    private async Task<JsonElement> Create(object body)
    {
        using var response = await client.PostAsJsonAsync("/admin/tokens", body);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private HttpClient Client(string token)
    {
        var c = factory.CreateClient();
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return c;
    }
}
