using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Steller.Infrastructure.EventStoreDb.Protocol;
using VNodeState = Steller.Infrastructure.EventStoreDb.Protocol.MemberInfo.Types.VNodeState;

namespace Steller.Infrastructure.EventStoreDb;

/// <summary>No node to talk to was found (every gossip seed failed or named no usable member). Transient: retry later.</summary>
public sealed class EventStoreDbDiscoveryException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>A node the adapter talks to: its endpoint and a Streams client on its channel.</summary>
internal sealed record EventStoreDbNode(EventStoreDbEndpoint Endpoint, Streams.StreamsClient Client);

/// <summary>
/// Which node gets which call. A single node (<c>esdb://host</c>) is used as given. A cluster (several hosts or
/// <c>esdb+discover://</c>) is discovered through the Gossip service, as the official clients do: the seeds (and the
/// members last heard of) are asked in turn for the cluster's members; writes go to the alive leader, reads by the
/// connection string's <c>nodePreference</c>. A <c>not-leader</c> answer moves the writer to the leader it names; a
/// failed connection forgets the node so the next call rediscovers. One channel per node, kept for the adapter's life.
/// </summary>
internal sealed class EventStoreDbNodes : IDisposable
{
    private readonly EventStoreDbConnectionString connection;
    private readonly Func<Uri, GrpcChannel> newChannel;
    private readonly Metadata headers;
    private readonly ConcurrentDictionary<EventStoreDbEndpoint, (GrpcChannel Channel, EventStoreDbNode Node)> channels = new();
    private readonly SemaphoreSlim discovering = new(1, 1);
    private readonly object gate = new();
    private EventStoreDbEndpoint? leader;
    private EventStoreDbEndpoint? reader;
    private IReadOnlyList<EventStoreDbEndpoint> knownMembers = [];

    public EventStoreDbNodes(EventStoreDbConnectionString connection, Func<Uri, GrpcChannel> newChannel, Metadata headers)
    {
        this.connection = connection;
        this.newChannel = newChannel;
        this.headers = headers;
    }

    public bool IsCluster => connection.IsCluster;

    /// <summary>How many gossip reads were made (for tests and diagnostics).</summary>
    public int GossipReads => gossipReads;
    private int gossipReads;

    /// <summary>The node for writes: the leader.</summary>
    public ValueTask<EventStoreDbNode> Leader(CancellationToken ct) => Select(forWrite: true, ct);

    /// <summary>The node for reads and subscriptions, by the node preference.</summary>
    public ValueTask<EventStoreDbNode> Reader(CancellationToken ct) =>
        Select(forWrite: connection.NodePreference == NodePreference.Leader, ct);

    /// <summary>Whether reads must be served by the leader (the <c>requires-leader</c> header).</summary>
    public bool ReadsRequireLeader => connection.NodePreference == NodePreference.Leader;

    private async ValueTask<EventStoreDbNode> Select(bool forWrite, CancellationToken ct)
    {
        lock (gate)
        {
            var known = forWrite ? leader : reader;
            if (known is not null) return NodeAt(known);
            if (!IsCluster) return NodeAt(connection.Hosts[0]);
        }
        await discovering.WaitAsync(ct);
        try
        {
            lock (gate)
                if ((forWrite ? leader : reader) is { } found) return NodeAt(found);
            var chosen = await Discover(forWrite, ct);
            return NodeAt(chosen);
        }
        finally { discovering.Release(); }
    }

    /// <summary>
    /// When <paramref name="e"/> is EventStoreDB's <c>not-leader</c> answer (trailers <c>exception: not-leader</c>,
    /// <c>leader-endpoint-host</c>, <c>leader-endpoint-port</c>), makes the named node the leader and returns true.
    /// </summary>
    public bool FollowNotLeader(EventStoreDbNode from, RpcException e)
    {
        if (NotLeaderEndpoint(e) is not { } newLeader) return false;
        lock (gate)
        {
            leader = newLeader;
            if (ReadsRequireLeader || reader == from.Endpoint) reader = ReadsRequireLeader ? newLeader : null;
        }
        return true;
    }

    public static EventStoreDbEndpoint? NotLeaderEndpoint(RpcException e)
    {
        if (e.Trailers.GetValue("exception") != "not-leader") return null;
        var host = e.Trailers.GetValue("leader-endpoint-host");
        var portText = e.Trailers.GetValue("leader-endpoint-port");
        return host is { Length: > 0 } && int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new EventStoreDbEndpoint(host, port) : null;
    }

    /// <summary>The call to <paramref name="node"/> failed at the connection: forget it as leader or reader, so the next call rediscovers.</summary>
    public void Failed(EventStoreDbNode node)
    {
        lock (gate)
        {
            if (leader == node.Endpoint) leader = null;
            if (reader == node.Endpoint) reader = null;
        }
    }

    private async Task<EventStoreDbEndpoint> Discover(bool forWrite, CancellationToken ct)
    {
        Exception? lastError = null;
        for (var round = 1; round <= connection.MaxDiscoverAttempts; round++)
        {
            // The members heard of last (in random order), then the seeds; each endpoint once.
            IEnumerable<EventStoreDbEndpoint> members;
            lock (gate) members = knownMembers.OrderBy(_ => Random.Shared.Next()).ToArray();
            foreach (var candidate in members.Concat(connection.Hosts).Distinct())
            {
                ClusterInfo info;
                try
                {
                    Interlocked.Increment(ref gossipReads);
                    var gossip = new Gossip.GossipClient(ChannelAt(candidate));
                    info = await gossip.ReadAsync(Wire.Empty, headers, DateTime.UtcNow.Add(connection.GossipTimeout), ct);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    lastError = e;
                    continue;
                }
                var alive = info.Members.Where(m => m.IsAlive && m.HttpEndPoint is { Address.Length: > 0 }).ToArray();
                var newLeader = alive.FirstOrDefault(m => m.State == VNodeState.Leader);
                var chosen = forWrite ? newLeader : ChooseReader(alive);
                if (chosen is null) continue;
                lock (gate)
                {
                    knownMembers = alive.Select(ToEndpoint).ToArray();
                    if (newLeader is not null) leader = ToEndpoint(newLeader);
                    if (forWrite) { if (ReadsRequireLeader) reader = leader; }
                    else reader = ToEndpoint(chosen);
                    return forWrite ? leader! : reader!;
                }
            }
            await Task.Delay(connection.DiscoveryInterval, ct);
        }
        throw new EventStoreDbDiscoveryException(
            $"No EventStoreDB {(forWrite ? "leader" : $"node for reads (nodePreference={connection.NodePreference})")} was found "
                + $"through gossip with {string.Join(", ", connection.Hosts)} in {connection.MaxDiscoverAttempts} round(s)"
                + (lastError is null ? "." : $"; last error: {lastError.Message}"), lastError);
    }

    private MemberInfo? ChooseReader(MemberInfo[] alive)
    {
        MemberInfo? Any(params VNodeState[] states)
        {
            var matching = alive.Where(m => states.Contains(m.State)).ToArray();
            return matching.Length == 0 ? null : matching[Random.Shared.Next(matching.Length)];
        }
        return connection.NodePreference switch
        {
            NodePreference.Follower => Any(VNodeState.Follower) ?? Any(VNodeState.Leader),
            NodePreference.ReadOnlyReplica => Any(VNodeState.ReadOnlyReplica) ?? Any(VNodeState.Follower) ?? Any(VNodeState.Leader),
            NodePreference.Random => Any(VNodeState.Leader, VNodeState.Follower),
            _ => Any(VNodeState.Leader),
        };
    }

    private static EventStoreDbEndpoint ToEndpoint(MemberInfo m) => new(m.HttpEndPoint.Address, (int)m.HttpEndPoint.Port);

    private GrpcChannel ChannelAt(EventStoreDbEndpoint endpoint) => Open(endpoint).Channel;

    private EventStoreDbNode NodeAt(EventStoreDbEndpoint endpoint) => Open(endpoint).Node;

    private (GrpcChannel Channel, EventStoreDbNode Node) Open(EventStoreDbEndpoint endpoint)
    {
        if (channels.TryGetValue(endpoint, out var open)) return open;
        lock (gate)
        {
            if (channels.TryGetValue(endpoint, out open)) return open;
            var channel = newChannel(connection.AddressOf(endpoint));
            open = (channel, new EventStoreDbNode(endpoint, new Streams.StreamsClient(channel)));
            channels[endpoint] = open;
            return open;
        }
    }

    public void Dispose()
    {
        foreach (var (channel, _) in channels.Values) channel.Dispose();
        discovering.Dispose();
    }
}
