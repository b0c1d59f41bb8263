using System.Text;

namespace Steller.Api.Http;

/// <summary>
/// CSV answers: who asked for one (Accept: text/csv), and a small report written line by line. Text fields are quoted by
/// <see cref="Steller.Projections.Wallets.Statements.WalletStatementQuery.Csv"/> (RFC 4180, formulas defused).
/// </summary>
public static class Csv
{
    public static bool Wanted(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));

    /// <summary>Writes <paramref name="lines"/> (the first is the header) as a CSV attachment named <paramref name="fileName"/>.</summary>
    public static async Task<IResult> Lines(HttpContext context, string fileName, IEnumerable<string> lines, CancellationToken ct)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 16 * 1024);
        foreach (var line in lines)
        {
            ct.ThrowIfCancellationRequested();
            await writer.WriteAsync(line);
            await writer.WriteAsync('\n');
        }
        return Results.Empty;
    }
}
