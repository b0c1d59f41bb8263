using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;

// A plain CRUD order placement, the baseline for the order bench (bench/Steller.Bench.Orders, section 4). It does what a
// team would write without event sourcing: one transaction that locks the partner's wallet row, checks the balance,
// inserts the order (idempotent by client reference) and its hold, and moves the wallet's pending amount.
// It is deliberately lighter than Steller at the edge: it checks the body's Content-Digest and that the key id is known,
// but verifies no HMAC signature and stores no nonce. Partners, wallets and prices live in its own schema `crud`.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
var cs = builder.Configuration["Crud:ConnectionString"] ?? throw new InvalidOperationException("--Crud:ConnectionString is required");
await using var dataSource = NpgsqlDataSource.Create(cs);
await using (var schema = dataSource.CreateCommand("""
    create schema if not exists crud;
    create table if not exists crud.wallets (partner_id text not null, currency text not null, posted bigint not null, pending bigint not null,
        primary key (partner_id, currency));
    create table if not exists crud.orders (order_id uuid primary key, partner_id text not null, client_reference text not null,
        currency text not null, total bigint not null, status text not null, placed_at timestamptz not null,
        unique (partner_id, client_reference));
    create table if not exists crud.order_lines (order_id uuid not null, line_no int not null, sku text not null, quantity int not null,
        face_value bigint not null, unit_price bigint not null, primary key (order_id, line_no));
    create table if not exists crud.holds (order_id uuid primary key, partner_id text not null, currency text not null, amount bigint not null,
        expires_at timestamptz not null);
    create table if not exists crud.api_keys (key_id text primary key, partner_id text not null);
    """)) await schema.ExecuteNonQueryAsync();

var app = builder.Build();
var keys = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(); // key id -> partner (a cache, as Steller caches keys)

// Setup, called by the bench: a partner with a funded wallet and a key id.
app.MapPost("/setup/partners", async (SetupPartner p) =>
{
    await using var conn = await dataSource.OpenConnectionAsync();
    await conn.ExecuteAsync("""
        insert into crud.wallets values (@PartnerId, @Currency, @Balance, 0) on conflict do nothing;
        insert into crud.api_keys values (@KeyId, @PartnerId) on conflict do nothing;
        """, p);
    return Results.NoContent();
});

app.MapPost("/v1/orders", async (HttpRequest request) =>
{
    // The edge: the key id from Signature-Input, the body against its Content-Digest.
    var input = request.Headers["Signature-Input"].ToString();
    var at = input.IndexOf("keyid=\"", StringComparison.Ordinal);
    if (at < 0) return Results.Problem(statusCode: 401, title: "missing signature");
    var keyId = input[(at + 7)..input.IndexOf('"', at + 7)];
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    var digest = "sha-256=:" + Convert.ToBase64String(SHA256.HashData(body.ToArray())) + ":";
    if (request.Headers["Content-Digest"].ToString() != digest) return Results.Problem(statusCode: 401, title: "digest mismatch");
    if (!keys.TryGetValue(keyId, out var partnerId))
    {
        await using var c = await dataSource.OpenConnectionAsync();
        partnerId = await c.QuerySingleOrDefaultAsync<string>("select partner_id from crud.api_keys where key_id = @keyId", new { keyId });
        if (partnerId is null) return Results.Problem(statusCode: 401, title: "unknown key");
        keys[keyId] = partnerId;
    }
    var order = JsonSerializer.Deserialize<NewOrder>(body.ToArray(), JsonSerializerOptions.Web);
    if (order?.ClientReference is null || order.Lines is not { Count: > 0 }) return Results.Problem(statusCode: 400, title: "invalid order");
    var total = order.Lines.Sum(l => checked(l.FaceValue * l.Quantity));
    const string currency = "EUR";

    // The placement: one transaction, the wallet row locked for the balance check.
    await using var conn = await dataSource.OpenConnectionAsync();
    await using var tx = await conn.BeginTransactionAsync();
    var wallet = await conn.QuerySingleOrDefaultAsync<(long Posted, long Pending)?>(
        "select posted, pending from crud.wallets where partner_id = @partnerId and currency = @currency for update", new { partnerId, currency }, tx);
    if (wallet is null) return Results.Problem(statusCode: 422, title: "no wallet");
    var orderId = Guid.NewGuid();
    var placedAt = DateTimeOffset.UtcNow;
    var inserted = await conn.ExecuteAsync("""
        insert into crud.orders values (@orderId, @partnerId, @ClientReference, @currency, @total, 'FundsHeld', @placedAt)
        on conflict (partner_id, client_reference) do nothing
        """, new { orderId, partnerId, order.ClientReference, currency, total, placedAt }, tx);
    if (inserted == 0)
    {
        var existing = await conn.QuerySingleAsync<Guid>("select order_id from crud.orders where partner_id = @partnerId and client_reference = @ClientReference",
            new { partnerId, order.ClientReference }, tx);
        await tx.CommitAsync();
        return Results.Json(new { orderId = existing, order.ClientReference, status = "FundsHeld", currency, total }, statusCode: 202);
    }
    if (wallet.Value.Posted - wallet.Value.Pending < total)
    {
        await tx.RollbackAsync();
        return Results.Problem(statusCode: 422, title: "insufficient funds");
    }
    await conn.ExecuteAsync("""
        insert into crud.order_lines select @orderId, n, sku, quantity, face_value, face_value
          from unnest(@skus, @quantities, @faceValues) with ordinality as l(sku, quantity, face_value, n);
        insert into crud.holds values (@orderId, @partnerId, @currency, @total, @expiresAt);
        update crud.wallets set pending = pending + @total where partner_id = @partnerId and currency = @currency;
        """, new
    {
        orderId, partnerId, currency, total, expiresAt = placedAt.AddMinutes(30),
        skus = order.Lines.Select(l => l.Sku).ToArray(), quantities = order.Lines.Select(l => l.Quantity).ToArray(),
        faceValues = order.Lines.Select(l => l.FaceValue).ToArray(),
    }, tx);
    await tx.CommitAsync();
    return Results.Json(new
    {
        orderId, order.ClientReference, status = "FundsHeld", currency, total,
        lines = order.Lines.Select((l, i) => new { lineNo = i + 1, l.Sku, l.Quantity, l.FaceValue, unitPrice = l.FaceValue, productType = "GiftCard" }),
        placedAt,
    }, statusCode: 202);
});

app.Run();

internal sealed record SetupPartner(string PartnerId, string Currency, long Balance, string KeyId);
internal sealed record NewOrder(string? ClientReference, List<NewLine>? Lines);
internal sealed record NewLine(string Sku, int Quantity, long FaceValue);
