using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Api.Tests;

/// <summary>
/// docs/openapi.json is the published contract. This fails when the served document drifts from it; regenerate with
/// STELLER_UPDATE_OPENAPI=1 ./test.sh --filter OpenApi and review the diff.
/// </summary>
public sealed class OpenApiDocumentTests
{
    [Test]
    public async Task the_committed_openapi_document_matches_what_the_api_serves()
    {
        await using var db = await TestDatabase.Create("openapi");
        await using var factory = new ApiFactory(db, withTestEndpoints: false);
        using var client = factory.StartKestrel();

        var served = Normalize(await client.GetStringAsync("/openapi/v1.json"));
        var path = Path.Combine(NodeTools.RepoRoot(), "docs", "openapi.json");
        if (Environment.GetEnvironmentVariable("STELLER_UPDATE_OPENAPI") == "1") await File.WriteAllTextAsync(path, served + "\n");

        File.Exists(path).Should().BeTrue($"{path} is the committed contract");
        (await File.ReadAllTextAsync(path)).Trim().Should().Be(served,
            "docs/openapi.json must match the served document (STELLER_UPDATE_OPENAPI=1 regenerates it)");
    }

    private static string Normalize(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("servers"); // the address of this test's server, not part of the contract
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
