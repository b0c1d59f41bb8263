using Steller.Application.EventStore;

namespace Steller.Projections.Tests.Folds;

/// <summary>Recorded envelopes for the pure folds: the fold reads position, revision, time and actor, never the bytes.</summary>
internal static class FoldEvents
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    public static RecordedEvent At(string stream, long revision, ulong position, int secondsAfterT0 = 0, string actor = "test") =>
        new(stream, new StreamRevision(revision), new LogPosition(position, position), Guid.NewGuid(), "fold.test.v1", ReadOnlyMemory<byte>.Empty,
            new EventMetadata("corr", "cause", Guid.NewGuid(), actor, T0.AddSeconds(secondsAfterT0)));
}
