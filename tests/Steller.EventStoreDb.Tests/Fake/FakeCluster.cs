using Grpc.Core;
using Steller.Infrastructure.EventStoreDb;
using Steller.Infrastructure.EventStoreDb.Protocol;
using VNodeState = Steller.Infrastructure.EventStoreDb.Protocol.MemberInfo.Types.VNodeState;

namespace Steller.EventStoreDb.Tests.Fake;

/// <summary>
/// A fake EventStoreDB cluster: several <see cref="FakeEventStoreServer"/>s sharing one <see cref="FakeLog"/> (as if
/// replication were instant), each serving the Gossip service with every member's state. The leader takes writes;
/// a follower answers a write, or a read sent with <c>requires-leader: true</c>, with the server's not-leader
/// exception naming the leader. Elections are instant and chosen by the test. THE REAL SERVER IS THE AUTHORITY.
/// </summary>
internal sealed class FakeCluster : IAsyncDisposable
{
    private readonly object gate = new();
    private int? dropAfterNextWriteElecting;

    private FakeCluster() { }

    public FakeLog Log { get; } = new();
    public List<FakeEventStoreServer> Nodes { get; } = [];
    public int LeaderIndex { get; private set; }
    public FakeEventStoreServer Leader => Nodes[LeaderIndex];

    public static async Task<FakeCluster> Start(int size = 3, int leader = 0)
    {
        var cluster = new FakeCluster { LeaderIndex = leader };
        for (var i = 0; i < size; i++)
            cluster.Nodes.Add(await FakeEventStoreServer.Start(log: cluster.Log, node: new FakeNode(cluster, i)));
        return cluster;
    }

    /// <summary><c>esdb://</c> with the given nodes (by index) as gossip seeds, in that order.</summary>
    public string ConnectionString(params int[] seeds) =>
        $"esdb://{string.Join(",", seeds.Select(i => $"127.0.0.1:{Nodes[i].Port}"))}?tls=false";

    /// <summary>
    /// Makes node <paramref name="index"/> the leader. The old leader drops its subscriptions' connections (a real
    /// leader steps down through an election and its clients lose it) and answers not-leader from now on.
    /// </summary>
    public void ElectLeader(int index)
    {
        var old = LeaderIndex;
        lock (gate) LeaderIndex = index;
        if (old != index && Nodes[old].Running) Nodes[old].Subscriptions.KillAll(reset: true);
    }

    /// <summary>Stops node <paramref name="index"/> (gossip then reports it dead); if it led, <paramref name="newLeader"/> leads.</summary>
    public async Task StopNode(int index, int newLeader)
    {
        if (LeaderIndex == index) lock (gate) LeaderIndex = newLeader;
        await Nodes[index].Stop();
    }

    /// <summary>
    /// The next append the leader accepts is written, then its connection is dropped before the answer, and node
    /// <paramref name="newLeader"/> becomes leader: the client cannot know whether its append landed.
    /// </summary>
    public void DropConnectionAfterNextWrite(int newLeader)
    {
        lock (gate) dropAfterNextWriteElecting = newLeader;
    }

    internal int? TakeDropAfterWrite()
    {
        lock (gate)
        {
            var d = dropAfterNextWriteElecting;
            dropAfterNextWriteElecting = null;
            return d;
        }
    }

    public ClusterInfo Gossip()
    {
        var info = new ClusterInfo();
        for (var i = 0; i < Nodes.Count; i++)
            info.Members.Add(new MemberInfo
            {
                InstanceId = Wire.ToUuid(new Guid(i + 1, 0, 0, new byte[8])),
                TimeStamp = DateTime.UtcNow.Ticks,
                State = !Nodes[i].Running ? VNodeState.Shutdown : i == LeaderIndex ? VNodeState.Leader : VNodeState.Follower,
                IsAlive = Nodes[i].Running,
                HttpEndPoint = new EndPoint { Address = "127.0.0.1", Port = (uint)Nodes[i].Port },
            });
        return info;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
    }
}

/// <summary>One fake server's place in a cluster (none for a single node) and what it was asked.</summary>
internal sealed class FakeNode(FakeCluster? cluster, int index)
{
    private int appendsAccepted, notLeaderAnswers, reads, gossipReads, unaryAppendCalls, batchAppendCalls;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ServerCallContext, byte> liveBatchAppends = new();

    public FakeCluster? Cluster => cluster;
    public int Index => index;
    public bool IsLeader => cluster is null || cluster.LeaderIndex == index;

    public int AppendsAccepted => appendsAccepted;
    public int NotLeaderAnswers => notLeaderAnswers;
    public int Reads => reads;
    public int GossipReads => gossipReads;
    /// <summary>Unary Append calls received (each one append).</summary>
    public int UnaryAppendCalls => unaryAppendCalls;
    /// <summary>BatchAppend calls opened (each carries any number of appends).</summary>
    public int BatchAppendCalls => batchAppendCalls;
    /// <summary>BatchAppend calls open now.</summary>
    public int LiveBatchAppendCalls => liveBatchAppends.Count;

    /// <summary>Answer BatchAppend with Unimplemented, as a server before 21.10 (which has no such rpc) does.</summary>
    public bool BatchAppendUnimplemented { get; set; }

    /// <summary>BatchAppend calls answered Unimplemented (see <see cref="BatchAppendUnimplemented"/>).</summary>
    public int UnimplementedAnswers => unimplementedAnswers;
    private int unimplementedAnswers;
    internal void CountUnimplemented() => Interlocked.Increment(ref unimplementedAnswers);

    /// <summary>The deadline the latest batch append asked for (before the server's write timeout caps it).</summary>
    public TimeSpan? LastBatchAppendDeadline { get; internal set; }

    internal void CountAppend() => Interlocked.Increment(ref appendsAccepted);
    internal void CountRead() => Interlocked.Increment(ref reads);
    internal void CountGossip() => Interlocked.Increment(ref gossipReads);
    internal void CountUnaryAppend() => Interlocked.Increment(ref unaryAppendCalls);

    internal IDisposable OpenBatchAppend(ServerCallContext context)
    {
        Interlocked.Increment(ref batchAppendCalls);
        liveBatchAppends[context] = 0;
        return new Closing(() => liveBatchAppends.TryRemove(context, out _));
    }

    /// <summary>Resets every open BatchAppend call (a network fault): the client loses the answers still due on it.</summary>
    public int ResetBatchAppendCalls()
    {
        var n = 0;
        foreach (var context in liveBatchAppends.Keys)
        {
            try { context.GetHttpContext().Abort(); n++; }
            catch (ObjectDisposedException) { } // ended meanwhile
        }
        return n;
    }

    private sealed class Closing(Action close) : IDisposable
    {
        public void Dispose() => close();
    }

    /// <summary>What EventStoreDB answers a call that needs the leader on another node.</summary>
    internal RpcException NotLeader()
    {
        Interlocked.Increment(ref notLeaderAnswers);
        var leader = cluster!.Leader;
        return new RpcException(new Status(StatusCode.NotFound, "Leader info available"), new Metadata
        {
            { "exception", "not-leader" },
            { "leader-endpoint-host", "127.0.0.1" },
            { "leader-endpoint-port", leader.Port.ToString() },
        });
    }

    /// <summary>Gossip of a single node: itself, the leader.</summary>
    internal ClusterInfo Gossip(int port) => cluster?.Gossip() ?? new ClusterInfo
    {
        Members =
        {
            new MemberInfo
            {
                State = MemberInfo.Types.VNodeState.Leader, IsAlive = true,
                HttpEndPoint = new EndPoint { Address = "127.0.0.1", Port = (uint)port },
            },
        },
    };
}

/// <summary>The Gossip service of a fake node: the cluster's members as this node sees them.</summary>
internal sealed class FakeGossipService(FakeNode node) : Gossip.GossipBase
{
    public override Task<ClusterInfo> Read(Empty request, ServerCallContext context)
    {
        node.CountGossip();
        var port = context.GetHttpContext().Connection.LocalPort;
        return Task.FromResult(node.Gossip(port));
    }
}

/// <summary>
/// The ServerFeatures service of a fake node, as a 24.x server answers it: the rpcs it offers, in lower case. A node
/// made to answer BatchAppend Unimplemented plays a server before 21.10, which has no ServerFeatures either.
/// </summary>
internal sealed class FakeServerFeaturesService(FakeNode node) : ServerFeatures.ServerFeaturesBase
{
    public override Task<SupportedMethods> GetSupportedMethods(Empty request, ServerCallContext context)
    {
        if (node.BatchAppendUnimplemented) throw new RpcException(new Status(StatusCode.Unimplemented, "Service is unimplemented."));
        var methods = new SupportedMethods { EventStoreServerVersion = "24.2.0" };
        foreach (var (service, method) in new[]
        {
            ("event_store.client.streams.streams", "read"), ("event_store.client.streams.streams", "append"),
            ("event_store.client.streams.streams", "batchappend"), ("event_store.client.gossip.gossip", "read"),
            ("event_store.client.server_features.serverfeatures", "getsupportedmethods"),
        })
            methods.Methods.Add(new SupportedMethod { ServiceName = service, MethodName = method });
        return Task.FromResult(methods);
    }
}
