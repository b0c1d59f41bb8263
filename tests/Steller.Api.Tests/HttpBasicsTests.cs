using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Testing;

namespace Steller.Api.Tests;

/// <summary>The edge, black box over HTTP: health, metrics, OpenAPI, problem details for every bad request, correlation ids.</summary>
public sealed class HttpBasicsTests
{
    private TestDatabase db = null!;
    private ApiFactory factory = null!;
    private HttpClient client = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        db = await TestDatabase.Create("api", migrate: false); // the API migrates at start
        factory = new ApiFactory(db);
        client = factory.StartKestrel();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        client.Dispose();
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    [Test]
    public async Task the_server_listens_on_loopback_through_kestrel() =>
        client.BaseAddress!.Host.Should().BeOneOf("127.0.0.1", "localhost");

    [Test]
    public async Task liveness_answers_200()
    {
        var response = await client.GetAsync("/health/live");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task readiness_answers_200_once_migrations_ran_and_every_read_model_is_registered()
    {
        await factory.ReadModelsRegistered();
        var body = await Ready();
        body.GetProperty("status").GetString().Should().Be("ready");
        body.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString())
            .Should().Contain(["database", "migrations", "read_models", "projections"]);
    }

    [Test]
    public async Task readiness_answers_503_naming_the_read_models_no_node_has_built_yet()
    {
        // A node that runs no projections, on a database no node has run them on: a query on a read model would be a 503.
        await using var fresh = await TestDatabase.Create("api_unbuilt", migrate: false);
        await using var node = new ApiFactory(fresh, settings: new Dictionary<string, string?> { ["Projections:Enabled"] = "false" });
        using var http = node.StartKestrel();
        using var response = await http.GetAsync("/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, body);
        body.Should().Contain("read_models").And.Contain("not built yet").And.Contain(Steller.Projections.Wallets.LedgerProjection.ProjectionName);
    }

    [Test]
    public async Task readiness_answers_503_naming_a_stopped_projection()
    {
        await factory.ReadModelsRegistered();
        await using (var cmd = db.DataSource.CreateCommand(
            "insert into steller.projection_faults (name, generation, error, attempts, failed_at) values ('imaginary', 1, 'boom', 1, now())"))
            await cmd.ExecuteNonQueryAsync();
        try
        {
            var response = await client.GetAsync("/health/ready");
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            (await response.Content.ReadAsStringAsync()).Should().Contain("stopped: imaginary");
        }
        finally
        {
            await using var cmd = db.DataSource.CreateCommand("delete from steller.projection_faults where name = 'imaginary'");
            await cmd.ExecuteNonQueryAsync();
        }
    }

    [Test]
    public async Task readiness_names_parked_events_without_answering_503_for_them()
    {
        await using (var cmd = db.DataSource.CreateCommand("""
            insert into steller.projection_parked (projection, generation, commit_position, prepare_position, event_id, stream_id,
                                                   stream_revision, event_type, error)
            values ('imaginary_parking', 1, 1, 1, gen_random_uuid(), 's-1', 0, 'test.x.v1', 'boom')
            """))
            await cmd.ExecuteNonQueryAsync();
        try
        {
            var response = await client.GetAsync("/health/ready");
            var body = await response.Content.ReadAsStringAsync();
            body.Should().Contain("parked_events").And.Contain("imaginary_parking: 1");
            body.Should().NotContain("stopped: imaginary_parking", "a parking projection goes on");
        }
        finally
        {
            await using var cmd = db.DataSource.CreateCommand("delete from steller.projection_parked where projection = 'imaginary_parking'");
            await cmd.ExecuteNonQueryAsync();
        }
    }

    [Test]
    public async Task an_unknown_route_is_a_404_problem_with_a_code()
    {
        var problem = await Problem(await client.GetAsync("/no/such/thing"), HttpStatusCode.NotFound);
        problem.GetProperty("code").GetString().Should().Be("not_found");
        problem.GetProperty("detail").GetString().Should().Contain("/no/such/thing");
    }

    [Test]
    public async Task a_wrong_method_is_a_405_problem() =>
        (await Problem(await client.DeleteAsync("/health/live"), HttpStatusCode.MethodNotAllowed)).GetProperty("code").GetString().Should().Be("method_not_allowed");

    [Test]
    public async Task malformed_json_is_a_400_problem_naming_the_json_error()
    {
        var response = await client.PostAsync("/test/echo", new StringContent("""{"name": "x", "count": """, Encoding.UTF8, "application/json"));
        var problem = await Problem(response, HttpStatusCode.BadRequest);
        problem.GetProperty("code").GetString().Should().Be("malformed_json");
    }

    [Test]
    public async Task a_body_with_the_wrong_content_type_is_a_415_problem()
    {
        var response = await client.PostAsync("/test/echo", new StringContent("name=x", Encoding.UTF8, "text/plain"));
        (await Problem(response, HttpStatusCode.UnsupportedMediaType)).GetProperty("code").GetString().Should().Be("unsupported_media_type");
    }

    [Test]
    public async Task an_oversized_body_is_a_413_problem_with_or_without_a_content_length()
    {
        var big = JsonSerializer.Serialize(new { name = new string('x', 10_000), count = 1 });
        var sized = await client.PostAsync("/test/echo", new StringContent(big, Encoding.UTF8, "application/json"));
        (await Problem(sized, HttpStatusCode.RequestEntityTooLarge)).GetProperty("code").GetString().Should().Be("body_too_large");

        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/test/echo") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        (await Problem(await client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge)).GetProperty("code").GetString().Should().Be("body_too_large");
    }

    [Test]
    public async Task oversized_bodies_get_their_413_reliably_on_a_reused_connection()
    {
        // A reset connection would surface as an HttpRequestException here instead of a 413.
        var big = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { name = new string('x', 200_000), count = 1 }));
        for (var i = 0; i < 20; i++)
        {
            var content = new StreamContent(new MemoryStream(big));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var request = new HttpRequestMessage(HttpMethod.Post, "/test/echo") { Content = content };
            request.Headers.TransferEncodingChunked = i % 2 == 0;
            if (i % 2 == 1) content.Headers.ContentLength = big.Length;
            (await Problem(await client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge)).GetProperty("code").GetString().Should().Be("body_too_large");
        }
        (await client.PostAsJsonAsync("/test/echo", new { name = "after", count = 1 })).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task a_good_json_body_is_served()
    {
        var response = await client.PostAsJsonAsync("/test/echo", new { name = "ok", count = 2 });
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("count").GetInt32().Should().Be(2);
    }

    [Test]
    public async Task a_correlation_id_sent_by_the_caller_is_echoed_and_on_every_log_line_of_the_request()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/test/echo") { Content = JsonContent.Create(new { name = "traced", count = 1 }) };
        request.Headers.Add("X-Correlation-Id", "order-42-attempt-1");
        var response = await client.SendAsync(request);

        response.Headers.GetValues("X-Correlation-Id").Should().Equal("order-42-attempt-1");
        factory.Logs.Lines.Should().Contain(l => l.Contains("Echoing traced") && l.Contains("CorrelationId=order-42-attempt-1"));
    }

    [Test]
    public async Task a_traceparent_supplies_the_correlation_id_when_no_header_does()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        var response = await client.SendAsync(request);
        response.Headers.GetValues("X-Correlation-Id").Should().Equal("4bf92f3577b34da6a3ce929d0e0e4736");
    }

    [Test]
    public async Task a_correlation_id_is_generated_when_none_is_sent_and_appears_in_problems()
    {
        var response = await client.GetAsync("/missing");
        var id = response.Headers.GetValues("X-Correlation-Id").Single();
        id.Should().MatchRegex("^[0-9a-f]{32}$");
        (await Problem(response, HttpStatusCode.NotFound)).GetProperty("correlationId").GetString().Should().Be(id);
    }

    [Test]
    public async Task a_hostile_correlation_id_is_replaced_not_echoed()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.TryAddWithoutValidation("X-Correlation-Id", "<script>alert(1)</script>");
        var response = await client.SendAsync(request);
        response.Headers.GetValues("X-Correlation-Id").Single().Should().MatchRegex("^[0-9a-f]{32}$");
    }

    [Test]
    public async Task metrics_are_prometheus_text_with_request_durations_append_latency_and_projection_lag()
    {
        await client.GetAsync("/health/live");
        var store = factory.Services.GetRequiredService<IEventStore>();
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);
        await Eventually.True(async () => (await client.GetStringAsync("/metrics")).Contains("steller_projection_lag_seconds{"),
            TimeSpan.FromSeconds(30), "the projection runner reports its lag");

        var text = await client.GetStringAsync("/metrics");
        text.Should().Contain("http_request_duration_seconds");
        text.Should().Contain("steller_eventstore_append_seconds_bucket{backend=\"postgres\"");
        text.Should().Contain("steller_projection_lag_seconds{projection=\"stream_stats\"}");
    }

    [Test]
    public async Task the_openapi_document_and_its_browsable_ui_are_served()
    {
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        doc.GetProperty("paths").TryGetProperty("/health/ready", out _).Should().BeTrue();
        var ui = await client.GetAsync("/docs/");
        ui.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ui.Content.ReadAsStringAsync()).Should().Contain("Steller API");
    }

    [Test]
    public async Task the_projection_runner_builds_the_stream_stats_read_model_in_the_api_process()
    {
        var store = factory.Services.GetRequiredService<IEventStore>();
        var stream = Events.Stream("api");
        await store.Append(stream, ExpectedRevision.NoStream, Events.Many(3));
        await Eventually.True(async () => await db.Scalar<long>($"select coalesce(max(events), 0) from read.stream_stats where stream_id = '{stream}'") == 3,
            TimeSpan.FromSeconds(30), "read.stream_stats counts the stream's 3 events");
    }

    private async Task<JsonElement> Ready()
    {
        var response = await client.GetAsync("/health/ready");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(expected, body);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        var json = JsonDocument.Parse(body).RootElement;
        json.GetProperty("status").GetInt32().Should().Be((int)expected);
        json.TryGetProperty("correlationId", out _).Should().BeTrue();
        return json;
    }
}
