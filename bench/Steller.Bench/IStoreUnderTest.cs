namespace Steller.Bench;

/// <summary>One event store under test. Both sides do the same work through their own public API.</summary>
public interface IStoreUnderTest : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Appends events n .. n+count-1 to <paramref name="stream"/> (expected revision: any) in one append / one SaveChanges.</summary>
    Task Append(string stream, long n, int count);

    /// <summary>Appends to several streams in one transaction (seeding): events n .. n+count-1 to each stream given.</summary>
    Task AppendMany(IReadOnlyList<(string Stream, long N, int Count)> appends);

    /// <summary>Reads the global log from the start in pages until <paramref name="maxEvents"/> or the end; returns the number read.</summary>
    Task<long> ReadAll(int pageSize, long maxEvents);

    /// <summary>Rebuilds the per-stream statistics read model from the first event; returns after it is complete.</summary>
    Task Rebuild();

    /// <summary>Rows (streams) in the read model and the sum of their event counts, to check a rebuild saw every event.</summary>
    Task<(long Streams, long Events)> ReadModelTotals();

    /// <summary>Events in the store's global log.</summary>
    Task<long> EventCount();

    /// <summary>Runs once before measuring: opens connections, JIT, Marten's code generation for the projection.</summary>
    Task WarmUp();
}
