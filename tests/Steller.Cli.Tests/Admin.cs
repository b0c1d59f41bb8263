using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>Admin credentials for tests that drive the real API process.</summary>
public static class Admin
{
    /// <summary>Until admin tokens exist, admin endpoints need none; this is where a token is attached.</summary>
    public static void Authorize(HttpClient http, TestDatabase db) { }
}
