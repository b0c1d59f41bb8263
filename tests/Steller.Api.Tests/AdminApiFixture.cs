using NUnit.Framework;
using Steller.Testing;

namespace Steller.Api.Tests;

/// <summary>
/// One API on real Kestrel over a fresh database per fixture, plus a client holding an admin token.
/// Field names are the ones the fixtures read as sentences with: db, factory, client.
/// </summary>
public abstract class AdminApiFixture(string purpose)
{
    protected TestDatabase db = null!;
    protected ApiFactory factory = null!;
    /// <summary>Carries an admin bearer token (role admin).</summary>
    protected HttpClient client = null!;

    /// <summary>Settings the fixture's API starts with, on top of the test defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    [OneTimeSetUp]
    public async Task StartApi()
    {
        db = await TestDatabase.Create(purpose, migrate: false); // the API migrates at start
        factory = new ApiFactory(db, settings: Settings);
        factory.StartKestrel().Dispose();
        // Views queried before their projection registered answer 503 read_model_unavailable: right for a client, a race here.
        if (Settings?.GetValueOrDefault("Projections:Enabled") != "false") await factory.ReadModelsRegistered();
        client = await factory.AdminClient();
    }

    [OneTimeTearDown]
    public async Task StopApi()
    {
        client.Dispose();
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }
}
