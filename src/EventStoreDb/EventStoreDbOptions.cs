namespace Steller.Infrastructure.EventStoreDb;

/// <summary>Tuning and policy of the EventStoreDB adapter. Defaults fit a single node on a LAN.</summary>
public sealed record EventStoreDbOptions
{
    /// <summary>
    /// The server's limit on one append (EventStoreDB default 1,048,576 bytes); bigger batches are refused before sending.
    /// </summary>
    public int MaxAppendSizeBytes { get; init; } = 1_048_576;

    /// <summary>
    /// Stream name prefixes that make up Steller's global log (e.g. "wallet-", "order-"). Reads of $all and the
    /// subscription pass only these streams (a server-side filter). Empty: every stream whose events are not system
    /// events (event type regex <c>^[^$]</c>).
    /// </summary>
    public IReadOnlyList<string> StreamPrefixes { get; init; } = [];

    /// <summary>Largest gRPC message accepted from the server; must exceed the largest event (the client default is 4 MB).</summary>
    public int MaxReceiveMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Deadline of appends and reads (converted to a UTC DateTime per call). Subscriptions never get one.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Filter window of the subscription: how many events the server scans per page.</summary>
    public uint SubscriptionFilterWindow { get; init; } = 32;

    /// <summary>The server sends a checkpoint every window × multiplier events scanned.</summary>
    public uint CheckpointIntervalMultiplier { get; init; } = 1;

    /// <summary>First wait before resubscribing after a dropped subscription; doubles per failed attempt.</summary>
    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between resubscription attempts.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// On a wrong-expected-revision answer to an exact expectation, how many of the stream's newest events are searched
    /// for the batch's ids, so a retry of an append that already succeeded returns the original result (EventStoreDB
    /// itself only recognises such a retry at the revision it was first written at). 0 turns the search off.
    /// </summary>
    public int IdempotencySearchWindow { get; init; } = 1_000;

    /// <summary>Told about every dropped subscription (the error and the wait before resubscribing), e.g. to log it.</summary>
    public Action<Exception, TimeSpan>? SubscriptionDropped { get; init; }

    internal void Validate()
    {
        if (MaxAppendSizeBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxAppendSizeBytes), "must be positive");
        if (MaxReceiveMessageSize <= MaxAppendSizeBytes)
            throw new ArgumentOutOfRangeException(nameof(MaxReceiveMessageSize),
                "must exceed the largest append (and so the largest event)");
        if (SubscriptionFilterWindow == 0) throw new ArgumentOutOfRangeException(nameof(SubscriptionFilterWindow), "must be positive");
        if (CheckpointIntervalMultiplier == 0)
            throw new ArgumentOutOfRangeException(nameof(CheckpointIntervalMultiplier), "must be positive");
        foreach (var p in StreamPrefixes)
            if (string.IsNullOrWhiteSpace(p) || p.StartsWith('$'))
                throw new ArgumentException($"Stream prefix '{p}' is empty or reserved ('$' streams belong to the store).",
                    nameof(StreamPrefixes));
    }
}
