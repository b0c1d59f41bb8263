using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Steller.Domain;

namespace Steller.Infrastructure.EventStoreDb;

/// <summary>Tuning and policy of the EventStoreDB adapter. Defaults fit a single node on a LAN.</summary>
public sealed record EventStoreDbOptions
{
    /// <summary>
    /// The server's limit on one append (EventStoreDB default 1,048,576 bytes); bigger batches are refused before sending.
    /// </summary>
    public int MaxAppendSizeBytes { get; init; } = 1_048_576;

    /// <summary>
    /// Stream name prefixes to add to Steller's global log beyond Steller's own (<see cref="StellerStreams.Prefixes"/>,
    /// always included). Reads of $all and the subscription pass only streams with these prefixes: a server-side
    /// filter, so other applications' streams on a shared server never reach a projection. Normally empty.
    /// </summary>
    public IReadOnlyList<string> StreamPrefixes { get; init; } = [];

    /// <summary>Steller's own prefixes followed by <see cref="StreamPrefixes"/>: the filter the server applies.</summary>
    public IReadOnlyList<string> LogStreamPrefixes => StellerStreams.Prefixes.Concat(StreamPrefixes).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Attempts of an append the server answered <c>Aborted</c> (its commit, prepare or forward timeouts, e.g. a
    /// duplicate event id arriving while the first write is not yet committed), including the first. Safe to retry:
    /// event ids make an append idempotent. 1 turns retrying off.
    /// </summary>
    public int AppendAttempts { get; init; } = 5;

    /// <summary>
    /// Send appends over one long-lived <c>BatchAppend</c> call per node, as the official clients do (one request and one
    /// answer per append instead of a new <c>Append</c> call each). A node that answers it <c>Unimplemented</c> (before
    /// 21.10) gets unary <c>Append</c> from then on. False: always unary <c>Append</c>.
    /// </summary>
    public bool BatchAppend { get; init; } = true;

    /// <summary>Wait before the first append retry; doubles per attempt (with jitter) up to one second.</summary>
    public TimeSpan AppendRetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How many events after a position <c>CountAfter</c> (lag, progress bars) counts exactly; beyond that it
    /// estimates the rest from the log positions (bytes) at the density it counted.
    /// </summary>
    public int ExactCountLimit { get; init; } = 10_000;

    /// <summary>Where warnings go: an event skipped in $all because it was not written by Steller.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

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
        if (AppendAttempts < 1) throw new ArgumentOutOfRangeException(nameof(AppendAttempts), "must be at least 1");
        if (ExactCountLimit < 1) throw new ArgumentOutOfRangeException(nameof(ExactCountLimit), "must be positive");
        foreach (var p in StreamPrefixes)
            if (string.IsNullOrWhiteSpace(p) || p.StartsWith('$'))
                throw new ArgumentException($"Stream prefix '{p}' is empty or reserved ('$' streams belong to the store).",
                    nameof(StreamPrefixes));
    }
}
