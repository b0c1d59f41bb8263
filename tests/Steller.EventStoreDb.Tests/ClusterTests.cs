using System.Collections.Concurrent;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// The adapter against a fake 3-node cluster (one shared log, a Gossip service on every node, followers answering
/// not-leader): discovery, writes to the leader, reads by node preference, and following leader changes.
/// </summary>
public sealed class ClusterTests
{
    private FakeCluster cluster = null!;
    private readonly List<EventStoreDbEventStore> stores = [];
    private readonly ConcurrentQueue<Exception> drops = new();

    [SetUp]
    public async Task StartCluster()
    {
        stores.Clear();
        drops.Clear();
        cluster = await FakeCluster.Start(size: 3, leader: 0);
    }

    [TearDown]
    public async Task StopCluster()
    {
        foreach (var s in stores) s.Dispose();
        await cluster.DisposeAsync();
    }

    private EventStoreDbEventStore Store(string connection)
    {
        var store = new EventStoreDbEventStore(connection, new EventStoreDbOptions
        {
            StreamPrefixes = ["test-"],
            AppendRetryDelay = TimeSpan.FromMilliseconds(10),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            SubscriptionDropped = (e, _) => drops.Enqueue(e),
        });
        stores.Add(store);
        return store;
    }

    private FakeNode Node(int i) => cluster.Nodes[i].Node;

    private int StoredCopies(EventData e) => cluster.Log.From(0).Count(r => r.Id == e.EventId);

    [Test]
    public async Task writes_go_to_the_leader_found_by_gossip_when_the_connection_string_names_followers_first()
    {
        cluster.ElectLeader(2);
        var store = Store(cluster.ConnectionString(0, 1, 2));
        var e = Events.Make();

        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [e]);

        Node(2).AppendsAccepted.Should().Be(1);
        Node(0).NotLeaderAnswers.Should().Be(0, "gossip named the leader, so no follower was asked to write");
        Node(1).NotLeaderAnswers.Should().Be(0);
        Node(0).GossipReads.Should().BeGreaterThan(0, "the first seed was asked for the cluster's members");
        StoredCopies(e).Should().Be(1);
    }

    [Test]
    public async Task esdb_discover_with_one_follower_address_finds_the_leader()
    {
        var store = Store($"esdb+discover://127.0.0.1:{cluster.Nodes[1].Port}?tls=false");
        var stream = Events.Stream();

        await store.Append(stream, ExpectedRevision.NoStream, Events.Many(2));

        Node(0).AppendsAccepted.Should().Be(1);
        Node(1).GossipReads.Should().BeGreaterThan(0);
        Node(1).NotLeaderAnswers.Should().Be(0);
        (await store.ReadStream(stream)).Events.Should().HaveCount(2);
    }

    [Test]
    public async Task a_single_node_string_naming_a_follower_follows_its_not_leader_answer_to_the_leader()
    {
        var store = Store($"esdb://127.0.0.1:{cluster.Nodes[1].Port}?tls=false");
        var e = Events.Make();

        var result = await store.Append(Events.Stream(), ExpectedRevision.NoStream, [e]);

        result.NextExpectedRevision.Value.Should().Be(0);
        Node(1).NotLeaderAnswers.Should().Be(1, "the follower refused the write and named the leader");
        Node(0).AppendsAccepted.Should().Be(1);
        store.GossipReads.Should().Be(0, "a single node is used as given, without gossip");
        StoredCopies(e).Should().Be(1);
    }

    [Test]
    public async Task after_a_leader_change_the_old_leaders_not_leader_answer_is_followed_and_the_append_lands_once()
    {
        var store = Store(cluster.ConnectionString(0, 1, 2));
        var stream = Events.Stream();
        await store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
        Node(0).AppendsAccepted.Should().Be(1);

        cluster.ElectLeader(1);
        var e = Events.Make();
        var result = await store.Append(stream, ExpectedRevision.Exact(0), [e]);

        result.NextExpectedRevision.Value.Should().Be(1);
        Node(0).NotLeaderAnswers.Should().Be(1, "the client still thought node 0 led");
        Node(1).AppendsAccepted.Should().Be(1);
        StoredCopies(e).Should().Be(1);
        (await store.ReadStream(stream)).Events.Should().HaveCount(2, "reads follow the new leader too");
    }

    [Test]
    public async Task appends_in_flight_on_the_old_leaders_batch_append_call_follow_the_new_leader_and_land_once()
    {
        var store = Store(cluster.ConnectionString(0, 1, 2));
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);
        Node(0).BatchAppendCalls.Should().Be(1);

        cluster.ElectLeader(1);
        var streams = Enumerable.Range(0, 6).Select(_ => Events.Stream()).ToArray();
        var batches = streams.Select(_ => Events.Many(2)).ToArray();
        var results = await Task.WhenAll(streams.Select((s, i) => store.Append(s, ExpectedRevision.NoStream, batches[i])));

        results.Should().OnlyContain(r => r.CurrentRevision.Value == 1);
        Node(0).NotLeaderAnswers.Should().Be(1, "the old leader ended its BatchAppend call with not-leader at the first append");
        Node(1).BatchAppendCalls.Should().Be(1, "the appends went on over one call to the new leader");
        Node(1).AppendsAccepted.Should().Be(streams.Length);
        batches.SelectMany(b => b).Select(StoredCopies).Should().OnlyContain(n => n == 1);
    }

    [Test]
    public async Task an_append_whose_connection_drops_after_it_was_written_is_retried_on_the_new_leader_and_lands_once()
    {
        var store = Store(cluster.ConnectionString(0, 1, 2));
        var stream = Events.Stream();
        await store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
        cluster.DropConnectionAfterNextWrite(newLeader: 2);
        var batch = Events.Many(3);

        var result = await store.Append(stream, ExpectedRevision.Exact(0), batch);

        result.NextExpectedRevision.Value.Should().Be(3, "the retry on the new leader returned the first write's result");
        Node(2).AppendsAccepted.Should().Be(1, "the retry went to the leader gossip named after the drop");
        batch.Select(StoredCopies).Should().Equal(1, 1, 1);
        (await store.ReadStream(stream)).Events.Should().HaveCount(4);
    }

    [Test]
    public async Task a_subscription_survives_leader_changes_and_delivers_every_event_once_in_order()
    {
        var writer = Store(cluster.ConnectionString(0, 1, 2));
        var reader = Store(cluster.ConnectionString(2, 1, 0));
        var stream = Events.Stream();
        var written = new List<EventData>();
        async Task Write(int count)
        {
            foreach (var e in Events.Many(count))
            {
                await writer.Append(stream, ExpectedRevision.Any, [e]);
                written.Add(e);
            }
        }

        var received = new ConcurrentQueue<RecordedEvent>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = Task.Run(async () =>
        {
            await foreach (var e in reader.SubscribeToAll(LogPosition.Start, cts.Token)) received.Enqueue(e);
        }, CancellationToken.None);
        Task Until(int count, string what) =>
            Eventually.True(() => Task.FromResult(received.Count >= count), TimeSpan.FromSeconds(20), what);

        await Write(5);
        await Until(5, "the first events arrived from leader 0");
        cluster.Nodes[0].Subscriptions.Active.Should().Be(1, "the subscription reads from the leader by default");

        cluster.ElectLeader(1); // node 0 steps down and drops its subscription
        await Write(5);
        await Until(10, "events written after the first leader change arrived");

        await cluster.StopNode(1, newLeader: 2); // the new leader goes away entirely
        await Write(5);
        await Until(15, "events written after the second leader change arrived");
        await Task.Delay(200); // anything delivered twice would arrive now
        cluster.Nodes[2].Subscriptions.Active.Should().Be(1, "the subscription followed the leader to node 2");

        await cts.CancelAsync();
        await FluentActions.Awaiting(() => running).Should().ThrowAsync<OperationCanceledException>();
        received.Select(e => e.EventId).Should().Equal(written.Select(e => e.EventId));
        received.Select(e => e.Position).Should().BeInAscendingOrder();
        drops.Should().HaveCountGreaterThanOrEqualTo(2, "the subscription was dropped at each leader change and resumed");
    }

    [Test]
    public async Task a_subscription_started_on_a_follower_follows_its_not_leader_answer_without_waiting()
    {
        var store = Store($"esdb://127.0.0.1:{cluster.Nodes[2].Port}?tls=false");
        var stream = Events.Stream();
        var written = Events.Many(3);
        await store.Append(stream, ExpectedRevision.NoStream, written);
        var received = new ConcurrentQueue<RecordedEvent>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var running = Task.Run(async () =>
        {
            await foreach (var e in store.SubscribeToAll(LogPosition.Start, cts.Token)) received.Enqueue(e);
        }, CancellationToken.None);

        await Eventually.True(() => Task.FromResult(received.Count == 3), TimeSpan.FromSeconds(15), "the events arrived");

        cluster.Nodes[0].Subscriptions.Active.Should().Be(1, "the subscription runs on the leader the follower named");
        Node(2).NotLeaderAnswers.Should().BeGreaterThan(0);
        drops.Should().BeEmpty("a not-leader answer is followed at once, not treated as a dropped subscription");
        received.Select(e => e.EventId).Should().Equal(written.Select(e => e.EventId));
        await cts.CancelAsync();
        await FluentActions.Awaiting(() => running).Should().ThrowAsync<OperationCanceledException>();
    }

    [Test]
    public async Task reads_go_to_a_follower_with_node_preference_follower_and_writes_still_to_the_leader()
    {
        var store = Store(cluster.ConnectionString(0, 1, 2) + "&nodePreference=follower");
        var stream = Events.Stream();
        await store.Append(stream, ExpectedRevision.NoStream, Events.Many(2));

        (await store.ReadStream(stream)).Events.Should().HaveCount(2);

        Node(0).AppendsAccepted.Should().Be(1);
        Node(0).Reads.Should().Be(0);
        (Node(1).Reads + Node(2).Reads).Should().Be(1);
        (Node(1).NotLeaderAnswers + Node(2).NotLeaderAnswers).Should().Be(0, "reads on a follower do not require the leader");
    }

    [Test]
    public async Task when_no_seed_answers_discovery_fails_naming_the_seeds()
    {
        var store = Store(cluster.ConnectionString(1, 2) + "&maxDiscoverAttempts=2&discoveryInterval=10");
        await cluster.StopNode(1, newLeader: 0);
        await cluster.StopNode(2, newLeader: 0);

        var act = () => store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);

        (await act.Should().ThrowAsync<EventStoreDbDiscoveryException>())
            .WithMessage($"*No EventStoreDB leader*127.0.0.1:{cluster.Nodes[1].Port}*2 round(s)*");
    }
}
