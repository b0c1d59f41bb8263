using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.EventStoreDb;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// The official EventStoreDB Node client (@eventstore/db-client 6.2.1, tests/tools) against the fake server: it finds
/// BatchAppend through ServerFeatures and appends over it, so the fake's BatchAppend answers (success, wrong expected
/// version details, the deadline it sends) are checked against the official client's reading of them.
/// </summary>
public sealed class OfficialClientTests : OnFakeServer
{
    [Test]
    public async Task the_official_node_client_appends_over_the_fakes_batch_append_and_reads_its_answers()
    {
        var tools = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "../../../../tools"));
        if (!Directory.Exists(Path.Combine(tools, "node_modules", "@eventstore", "db-client")))
            Assert.Ignore("node or tests/tools/node_modules is missing: ./test.sh runs `npm ci --prefix tests/tools` when node is installed.");
        var stream = Events.Stream();
        var metadata = Encoding.UTF8.GetString(EventMetadataJson.Serialize(Events.Metadata()));

        var output = await RunNode(tools, "esdb-client.mjs", server.ConnectionString, stream, metadata);

        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        root.TryGetProperty("error", out var error).Should().BeFalse(error.ToString());
        var stored = server.Log.Stream(stream)!;
        root.GetProperty("first").GetProperty("next").GetString().Should().Be("0");
        root.GetProperty("second").GetProperty("next").GetString().Should().Be("2");
        root.GetProperty("second").GetProperty("commit").GetString().Should().Be(stored[2].Position.ToString());
        root.GetProperty("retry").GetProperty("next").GetString().Should().Be("2", "the retried batch got the original result");
        root.GetProperty("wrong").GetProperty("actual").GetString().Should().Be("2");
        root.GetProperty("wrong").GetProperty("expected").GetString().Should().Be("7");
        server.Node.BatchAppendCalls.Should().BeGreaterThan(0, "the official client chose BatchAppend from ServerFeatures");
        server.Node.UnaryAppendCalls.Should().Be(0);
        server.Node.LastBatchAppendDeadline.Should().BeGreaterThan(TimeSpan.Zero, "it sends its deadline as the 21.10 timestamp form");

        using var store = new EventStoreDbEventStore(server.ConnectionString);
        var read = await store.ReadStream(stream);
        read.Events.Select(e => e.EventId.ToString()).Should().Equal(root.GetProperty("ids").EnumerateArray().Select(i => i.GetString()));
    }

    private static async Task<string> RunNode(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, await stderr);
        return (await stdout).Trim().Split('\n')[^1];
    }
}
