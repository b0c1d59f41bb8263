using Npgsql;

namespace Steller.Projections.Wallets;

/// <summary>The ledger read models do not exist yet (the projection has not run once on this database). Retry shortly.</summary>
public sealed class ReadModelNotReadyException(string readModel, Exception inner)
    : Exception($"The read model {readModel} is not built yet; the ledger projection creates it when it first runs.", inner)
{
    public string ReadModel { get; } = readModel;

    public static bool Is(Exception e) => e is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable };
}
