using System.Net.Http.Headers;
using Steller.Infrastructure.Admin;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>Admin credentials for tests that drive the real API process.</summary>
public static class Admin
{
    /// <summary>Creates an admin bearer token in the database (migrated by the API at start) and attaches it to <paramref name="http"/>.</summary>
    public static async Task Authorize(HttpClient http, TestDatabase db, string role = AdminRoles.Admin)
    {
        var token = await new AdminTokens(db.DataSource).Create($"test-{role}-{Guid.NewGuid():N}"[..24], role, DateTimeOffset.UtcNow);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
    }
}
