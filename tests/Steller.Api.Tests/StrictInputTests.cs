using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Client;

namespace Steller.Api.Tests;

/// <summary>
/// Strict input at the edge, attacked as a hostile client would: control characters and over-long text in any field, duplicate JSON
/// keys, lower-case methods, bodies that are not JSON, numbers out of range. Each is refused with a problem naming what is wrong, and
/// nothing is written.
/// </summary>
public sealed class StrictInputTests() : AdminApiFixture("strict-input")
{
    private const string Nul = "a\u0000b";

    [Test]
    public async Task a_deposit_whose_reference_holds_a_nul_is_refused_naming_reference_and_writes_nothing()
    {
        var partner = await PartnerWithWallet();
        var response = await Deposit(partner, "dep-nul", """{"amount": 100, "reference": "a\u0000b"}""");

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        problem.GetProperty("code").GetString().Should().Be("validation_failed");
        problem.GetProperty("errors").TryGetProperty("reference", out _).Should().BeTrue("the problem names the field");
        (await WalletStreamLength(partner)).Should().Be(1, "only the opening is in the wallet's stream");
    }

    [TestCase("\u0001"), TestCase("\u001b[31m"), TestCase("\u0085"), TestCase("\u007f"), TestCase("bank\u202Eevil")]
    public async Task a_deposit_reference_with_a_control_or_bidi_override_character_is_refused(string reference)
    {
        var partner = await PartnerWithWallet();
        var response = await Deposit(partner, "dep-ctl", JsonSerializer.Serialize(new { amount = 100, reference }));
        (await Problem(response, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("reference", out _).Should().BeTrue();
        (await WalletStreamLength(partner)).Should().Be(1);
    }

    [Test]
    public async Task a_lone_surrogate_in_a_reason_is_refused_naming_the_field()
    {
        var partner = await PartnerWithWallet();
        var response = await client.PostAsync($"/admin/partners/{partner}/wallets/EUR/freeze",
            new StringContent("""{"reason": "x\ud800y"}""", Encoding.UTF8, "application/json"));
        var problem = await Problem(response, HttpStatusCode.BadRequest);
        problem.GetProperty("errors").TryGetProperty("reason", out _).Should().BeTrue();
        problem.GetProperty("detail").GetString().Should().NotContain("System.").And.NotContain("could not be converted");
    }

    [Test]
    public async Task a_hold_with_an_over_long_order_id_is_refused_and_not_stored()
    {
        var partner = await PartnerWithWallet(10_00);
        var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds",
            new { transferId = "h-long", amount = 1_00, orderId = new string('o', 2_000) });

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty("orderId")[0].GetString().Should().Contain("at most 128 characters");
        (await WalletStreamLength(partner)).Should().Be(2, "the opening and the seed deposit, no hold");
    }

    [Test]
    public async Task an_order_id_of_exactly_the_limit_is_accepted()
    {
        var partner = await PartnerWithWallet(10_00);
        var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds",
            new { transferId = "h-128", amount = 1_00, orderId = new string('o', 128) });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Test]
    public async Task an_over_long_reason_is_refused()
    {
        var partner = await PartnerWithWallet();
        var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/freeze", new { reason = new string('r', 501) });
        (await Problem(response, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("reason")[0].GetString()
            .Should().Contain("at most 500 characters");
        (await WalletStreamLength(partner)).Should().Be(1);
    }

    [Test]
    public async Task free_text_may_be_right_to_left_but_an_identifier_may_not_carry_a_bidi_override()
    {
        var partner = await PartnerWithWallet();
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/freeze", new { reason = "\u202Bمراجعة الحساب\u202C" }))
            .IsSuccessStatusCode.Should().BeTrue("a reason is free text");
        var transfer = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds",
            new { transferId = "h-bidi", amount = 1, orderId = "ord-\u202Eevil" });
        (await Problem(transfer, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("orderId", out _).Should().BeTrue();
    }

    /// <summary>
    /// Driven by the OpenAPI document: every POST and PUT, every string its body documents (nested and in lists), sent with a NUL
    /// alone. Each answer is a 400 naming exactly that field; never a 2xx and never a 500.
    /// </summary>
    [Test, CancelAfter(120_000)]
    public async Task every_documented_string_field_of_every_post_and_put_refuses_a_nul_naming_the_field()
    {
        var partner = await PartnerWithWallet();
        using var signed = await SignedClient(partner);
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        var tried = new List<string>();
        var failures = new List<string>();

        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "post" or "put"))
        {
            if (!operation.Value.TryGetProperty("requestBody", out var requestBody)) continue;
            var schema = requestBody.GetProperty("content").GetProperty("application/json").GetProperty("schema");
            foreach (var field in StringFields(schema, schemas, ""))
            {
                var url = Fill(path.Name, partner);
                var http = url.StartsWith("/v1/", StringComparison.Ordinal) ? signed.Http : client;
                var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url)
                {
                    Content = new StringContent(BodyWith(field, Nul), Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("Idempotency-Key", $"nul-{Guid.NewGuid():N}");
                var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                tried.Add($"{operation.Name.ToUpperInvariant()} {path.Name} {field}");
                var named = response.StatusCode == HttpStatusCode.BadRequest
                    && JsonDocument.Parse(text).RootElement.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _);
                if (!named) failures.Add($"{operation.Name.ToUpperInvariant()} {path.Name} {field}: {(int)response.StatusCode} {text}");
            }
        }

        tried.Should().HaveCountGreaterThan(30, "every string field of every write is tried");
        tried.Should().Contain(t => t.EndsWith("lines[0].sku")).And.Contain(t => t.EndsWith("cidrs[0]"))
            .And.Contain(t => t.EndsWith("legs[0].account")).And.Contain(t => t.EndsWith("recipient.email"));
        failures.Should().BeEmpty();
    }

    /// <summary>Every string route and query parameter of every operation, sent with a NUL: a 4xx, never a 2xx or a 500.</summary>
    [Test, CancelAfter(120_000)]
    public async Task every_documented_string_parameter_refuses_a_nul()
    {
        var partner = await PartnerWithWallet();
        using var signed = await SignedClient(partner);
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var failures = new List<string>();
        var tried = 0;

        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject())
        {
            if (!operation.Value.TryGetProperty("parameters", out var parameters)) continue;
            foreach (var parameter in parameters.EnumerateArray())
            {
                var name = parameter.GetProperty("name").GetString()!;
                var location = parameter.GetProperty("in").GetString();
                if (location is not ("path" or "query") || !IsString(parameter.GetProperty("schema"))) continue;
                var url = location == "path"
                    ? Fill(path.Name.Replace($"{{{name}}}", "a%00b"), partner)
                    : $"{Fill(path.Name, partner)}?{name}=a%00b";
                var http = url.StartsWith("/v1/", StringComparison.Ordinal) ? signed.Http : client;
                var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url);
                if (operation.Name is "post" or "put") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                var response = await http.SendAsync(request);
                tried++;
                var status = (int)response.StatusCode;
                if (status is < 400 or >= 500)
                    failures.Add($"{operation.Name.ToUpperInvariant()} {url}: {status} {await response.Content.ReadAsStringAsync()}");
                if (location == "query" && status == 400)
                {
                    var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                    if (!problem.TryGetProperty("errors", out var errors) || !errors.TryGetProperty(name, out _))
                        failures.Add($"{operation.Name.ToUpperInvariant()} {url}: the problem does not name {name}");
                }
            }
        }

        tried.Should().BeGreaterThan(20);
        failures.Should().BeEmpty();
    }

    [Test]
    public async Task a_body_sending_one_key_twice_is_refused_not_last_one_wins()
    {
        var partner = await PartnerWithWallet();
        var response = await Deposit(partner, "dep-dup", """{"amount": 100, "amount": 900000, "reference": "bank-1"}""");

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        problem.GetProperty("code").GetString().Should().Be("duplicate_json_key");
        problem.GetProperty("errors").TryGetProperty("amount", out _).Should().BeTrue();
        problem.GetProperty("detail").GetString().Should().NotContain("MoneyBody");
        (await WalletStreamLength(partner)).Should().Be(1);
    }

    [Test]
    public async Task a_key_sent_twice_in_other_letter_case_or_nested_is_refused_too()
    {
        var partner = await PartnerWithWallet();
        (await Problem(await Deposit(partner, "dep-dup-case", """{"amount": 100, "Amount": 900000, "reference": "bank-1"}"""),
            HttpStatusCode.BadRequest)).GetProperty("code").GetString().Should().Be("duplicate_json_key");
        var capture = await client.PostAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-x/capture", new StringContent(
            """{"legs": [{"account": "platform:revenue:EUR", "amount": 1, "amount": 2}]}""", Encoding.UTF8, "application/json"));
        var problem = await Problem(capture, HttpStatusCode.BadRequest);
        problem.GetProperty("code").GetString().Should().Be("duplicate_json_key");
        problem.GetProperty("errors").TryGetProperty("legs[0].amount", out _).Should().BeTrue();
    }

    /// <summary>Sent over a raw socket: HttpClient would put a known method into capitals itself.</summary>
    [TestCase("post"), TestCase("Post"), TestCase("pOST")]
    public async Task http_methods_are_case_sensitive(string method)
    {
        var partner = await PartnerWithWallet();
        var token = client.DefaultRequestHeaders.Authorization!.ToString();
        const string body = """{"amount": 100, "reference": "bank-1"}""";
        var raw = $"{method} /admin/partners/{partner}/wallets/EUR/deposits HTTP/1.1\r\nHost: localhost\r\nAuthorization: {token}\r\n"
            + $"Idempotency-Key: dep-case\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(client.BaseAddress!.Host, client.BaseAddress.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw));
        var answer = await new StreamReader(stream).ReadToEndAsync();

        answer.Should().StartWith("HTTP/1.1 405").And.Contain("method_not_allowed").And.Contain("application/problem+json");
        (await WalletStreamLength(partner)).Should().Be(1, "nothing is deposited");
    }

    [Test]
    public async Task a_json_body_sent_as_text_plain_is_a_415_problem_and_writes_nothing()
    {
        var partner = await PartnerWithWallet();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits")
        {
            Content = new StringContent("""{"amount": 100, "reference": "bank-1"}""", Encoding.UTF8, "text/plain"),
        };
        request.Headers.Add("Idempotency-Key", "dep-plain");
        var problem = await Problem(await client.SendAsync(request), HttpStatusCode.UnsupportedMediaType);
        problem.GetProperty("code").GetString().Should().Be("unsupported_media_type");
        problem.GetProperty("detail").GetString().Should().Contain("application/json");
        (await WalletStreamLength(partner)).Should().Be(1);
    }

    [Test]
    public async Task an_optional_body_sent_as_text_plain_is_a_415_problem_too()
    {
        var response = await client.PostAsync("/admin/orders/no-such-order/retry",
            new StringContent("""{"reason": "again"}""", Encoding.UTF8, "text/plain"));
        (await Problem(response, HttpStatusCode.UnsupportedMediaType)).GetProperty("code").GetString().Should().Be("unsupported_media_type");
    }

    [Test]
    public async Task a_signed_order_sent_as_text_plain_is_a_415_problem()
    {
        var partner = await PartnerWithWallet();
        using var signed = await SignedClient(partner);
        var response = await signed.Http.PostAsync("/v1/orders", new StringContent(
            """{"clientReference": "plain-1", "lines": [{"sku": "x", "quantity": 1, "faceValue": 100}]}""", Encoding.UTF8, "text/plain"));
        (await Problem(response, HttpStatusCode.UnsupportedMediaType)).GetProperty("code").GetString().Should().Be("unsupported_media_type");
    }

    [Test]
    public async Task a_missing_body_is_refused_without_framework_wording()
    {
        var partner = await PartnerWithWallet();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits")
        {
            Content = new StringContent("", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "dep-empty");
        var problem = await Problem(await client.SendAsync(request), HttpStatusCode.BadRequest);
        problem.GetProperty("code").GetString().Should().Be("body_required");
        var detail = problem.GetProperty("detail").GetString()!;
        detail.Should().NotContain("Implicit body").And.NotContain("Did you mean").And.NotContain("Service");
        detail.Should().Contain("application/json");
    }

    [Test]
    public async Task an_amount_of_two_to_the_sixty_third_is_out_of_range_not_invalid_json()
    {
        var partner = await PartnerWithWallet();
        var response = await Deposit(partner, "dep-big", """{"amount": 9223372036854775808, "reference": "bank-1"}""");

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        problem.GetProperty("code").GetString().Should().Be("validation_failed");
        problem.GetProperty("detail").GetString().Should().StartWith("amount is out of range").And.NotContain("System.")
            .And.NotContain("not valid JSON");
        problem.GetProperty("errors").TryGetProperty("amount", out _).Should().BeTrue();
        (await WalletStreamLength(partner)).Should().Be(1);
    }

    [TestCase("\"ten\"", "amount must be a whole number"), TestCase("1.5", "amount must be a whole number")]
    public async Task a_wrong_kind_of_amount_names_the_field_and_what_it_must_be(string amount, string expected)
    {
        var partner = await PartnerWithWallet();
        var problem = await Problem(await Deposit(partner, "dep-kind", $$"""{"amount": {{amount}}, "reference": "bank-1"}"""),
            HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().StartWith(expected).And.NotContain("System.").And.NotContain("Int64");
    }

    [Test]
    public async Task malformed_json_says_where_without_dotnet_wording()
    {
        var partner = await PartnerWithWallet();
        var problem = await Problem(await Deposit(partner, "dep-bad", """{"amount": 100, "reference": """), HttpStatusCode.BadRequest);
        problem.GetProperty("code").GetString().Should().Be("malformed_json");
        problem.GetProperty("detail").GetString().Should().StartWith("The body is not valid JSON (line 1").And.NotContain("System.")
            .And.NotContain("Path:");
    }

    [Test]
    public async Task every_schema_name_in_the_openapi_document_belongs_to_one_clr_type()
    {
        await client.GetStringAsync("/openapi/v1.json");
        factory.Services.GetRequiredService<Steller.Api.Http.SchemaNames>().Clashes.Should().BeEmpty();
    }

    [Test]
    public void two_types_of_one_name_are_reported_as_a_clash_and_documented_apart()
    {
        var names = new Steller.Api.Http.SchemaNames();
        var wallet = names.Id(JsonSerializerOptions.Default.GetTypeInfo(typeof(WalletSide.TransferBody)));
        var stock = names.Id(JsonSerializerOptions.Default.GetTypeInfo(typeof(StockSide.TransferBody)));

        wallet.Should().Be("TransferBody");
        stock.Should().NotBe(wallet, "a second type of the same name never shares the first one's schema");
        names.Clashes.Should().ContainKey("TransferBody").WhoseValue.Should().BeEquivalentTo([typeof(WalletSide.TransferBody),
            typeof(StockSide.TransferBody)]);
    }

    private static class WalletSide { public sealed record TransferBody(string ToPartnerId, long Amount); }
    private static class StockSide { public sealed record TransferBody(string ToLocation, long Quantity); }

    [Test]
    public async Task the_inventory_transfer_is_documented_with_its_own_fields()
    {
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var body = doc.GetProperty("paths").GetProperty("/admin/inventory/{sku}/{location}/transfers").GetProperty("post")
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        var name = body.GetProperty("$ref").GetString()!.Split('/')[^1];
        var properties = doc.GetProperty("components").GetProperty("schemas").GetProperty(name).GetProperty("properties");
        properties.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("transferId", "toLocation", "quantity");
    }

    [Test]
    public async Task the_openapi_document_states_a_length_limit_and_pattern_for_every_text_the_api_accepts()
    {
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        var missing = new List<string>();
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject())
        {
            if (operation.Value.TryGetProperty("parameters", out var parameters))
                foreach (var parameter in parameters.EnumerateArray()
                             .Where(p => p.GetProperty("in").GetString() is "path" or "query" && IsString(p.GetProperty("schema"))))
                    if (!parameter.GetProperty("schema").TryGetProperty("maxLength", out _))
                        missing.Add($"{operation.Name} {path.Name} ?{parameter.GetProperty("name").GetString()}");
            if (!operation.Value.TryGetProperty("requestBody", out var requestBody)) continue;
            var schema = requestBody.GetProperty("content").GetProperty("application/json").GetProperty("schema");
            foreach (var (field, fieldSchema) in StringSchemas(schema, schemas, ""))
                if (!fieldSchema.TryGetProperty("maxLength", out _) || !fieldSchema.TryGetProperty("pattern", out _))
                    missing.Add($"{operation.Name} {path.Name} {field}");
        }
        missing.Should().BeEmpty();

        var hold = schemas.GetProperty("PlaceHoldBody").GetProperty("properties");
        hold.GetProperty("orderId").GetProperty("maxLength").GetInt32().Should().Be(128);
        schemas.GetProperty("MoneyBody").GetProperty("properties").GetProperty("reference").GetProperty("maxLength").GetInt32().Should().Be(128);
    }

    private async Task<string> PartnerWithWallet(long funds = 0)
    {
        var partner = $"p{Guid.NewGuid():N}"[..12];
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = partner, name = "Strict", contactEmail = "ops@example.com" }))
            .IsSuccessStatusCode.Should().BeTrue();
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets", new { currency = "EUR" })).StatusCode.Should().Be(HttpStatusCode.Created);
        if (funds > 0)
            (await Deposit(partner, $"seed-{partner}", JsonSerializer.Serialize(new { amount = funds, reference = "seed" })))
                .StatusCode.Should().Be(HttpStatusCode.Created);
        return partner;
    }

    private async Task<StellerClient> SignedClient(string partner)
    {
        var key = await (await client.PostAsync($"/admin/partners/{partner}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return StellerClient.Create(new Uri(client.BaseAddress!, "/"), key.GetProperty("keyId").GetString()!,
            key.GetProperty("secret").GetString()!, time: new Orders.ApiTime(factory.Clock));
    }

    private Task<HttpResponseMessage> Deposit(string partner, string key, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    private async Task<int> WalletStreamLength(string partner) =>
        (await factory.Services.GetRequiredService<IEventStore>().ReadStream($"wallet-{partner}-EUR")).Events.Count;

    private static async Task<JsonElement> Problem(HttpResponseMessage response, params HttpStatusCode[] statuses)
    {
        var text = await response.Content.ReadAsStringAsync();
        statuses.Should().Contain(response.StatusCode, text);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>A route with every {parameter} filled with a valid id; the partner for {partnerId}.</summary>
    private static string Fill(string route, string partner) => System.Text.RegularExpressions.Regex.Replace(
        route.Replace("{partnerId}", partner).Replace("{currency}", "EUR"), @"\{[^}]+\}", "t1");

    private static bool IsString(JsonElement schema) => schema.TryGetProperty("type", out var type)
        && (type.ValueKind == JsonValueKind.String ? type.GetString() == "string" : type.EnumerateArray().Any(t => t.GetString() == "string"))
        && !schema.TryGetProperty("format", out _);

    private static bool IsArray(JsonElement schema) => schema.TryGetProperty("type", out var type)
        && (type.ValueKind == JsonValueKind.String ? type.GetString() == "array" : type.EnumerateArray().Any(t => t.GetString() == "array"));

    private static IEnumerable<string> StringFields(JsonElement schema, JsonElement schemas, string prefix) =>
        StringSchemas(schema, schemas, prefix).Select(f => f.Field);

    /// <summary>Every string a body schema documents, as (field path, its schema): nested objects and the first item of lists.</summary>
    private static IEnumerable<(string Field, JsonElement Schema)> StringSchemas(JsonElement schema, JsonElement schemas, string prefix,
        int depth = 0)
    {
        if (depth > 5) yield break;
        if (schema.TryGetProperty("oneOf", out var oneOf) || schema.TryGetProperty("anyOf", out oneOf))
        {
            foreach (var alternative in oneOf.EnumerateArray())
            foreach (var f in StringSchemas(alternative, schemas, prefix, depth + 1))
                yield return f;
            yield break;
        }
        if (schema.TryGetProperty("$ref", out var reference)) schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
        if (IsString(schema))
        {
            yield return (prefix, schema);
            yield break;
        }
        if (IsArray(schema) && schema.TryGetProperty("items", out var items))
        {
            foreach (var f in StringSchemas(items, schemas, $"{prefix}[0]", depth + 1)) yield return f;
            yield break;
        }
        if (!schema.TryGetProperty("properties", out var properties)) yield break;
        foreach (var property in properties.EnumerateObject())
            foreach (var f in StringSchemas(property.Value, schemas, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}", depth + 1))
                yield return f;
    }

    /// <summary>{"lines":[{"sku": value}]} for "lines[0].sku".</summary>
    private static string BodyWith(string field, string value)
    {
        JsonNode leaf = JsonValue.Create(value);
        var segments = System.Text.RegularExpressions.Regex.Matches(field, @"[^.\[\]]+|\[\d+\]").Select(m => m.Value).Reverse();
        foreach (var segment in segments)
            leaf = segment.StartsWith('[') ? new JsonArray(leaf) : new JsonObject { [segment] = leaf };
        return leaf.ToJsonString();
    }
}
