using Steller.Application.Commands;
using Steller.Api.Http;
using Steller.Domain;
using Steller.Domain.Wallets;

namespace Steller.Api.Wallets;

public sealed record WalletView(string PartnerId, string Currency, long Posted, long Pending, long Available, long CreditLimit, bool Frozen, long Revision)
{
    public static WalletView Of(Wallet w, long revision) =>
        new(w.PartnerId!, w.Currency!, w.Posted, w.Pending, w.Available, w.CreditLimit, w.Frozen, revision);
}

public sealed record HoldView(string TransferId, long Amount, string Status, long Captured, long Released, DateTimeOffset? ExpiresAt, string? OrderId, WalletView Wallet)
{
    public static HoldView Of(Hold h, Wallet w, long revision) => new(h.TransferId, h.Amount, h.Status.ToString().ToLowerInvariant(), h.Captured,
        h.Status == HoldStatus.Released ? h.Amount : h.Status == HoldStatus.Captured ? h.Amount - h.Captured : 0, h.ExpiresAt, h.OrderId, WalletView.Of(w, revision));
}

public sealed record TransferView(string TransferId, string Kind, long Amount, WalletView Wallet);

/// <summary>How wallet outcomes become HTTP: one mapping of domain error codes to statuses, in one place.</summary>
public static class WalletResults
{
    public static int StatusOf(DomainError error) => error.Code switch
    {
        "wallet_not_found" or "hold_not_found" => 404,
        "idempotency_conflict" or "wallet_exists" or "hold_released" or "hold_captured" or "wallet_frozen" => 409,
        _ => 422, // insufficient_funds, capture_exceeds_hold, invalid_* : understood, but refused by the rules
    };

    public static IResult Problem(DomainError error) => Problems.Result(StatusOf(error), error.Code, error.Message);

    /// <summary>201 for a change, 200 for an idempotent repeat (the first result stands), the problem otherwise. ETag = stream revision.</summary>
    public static IResult Respond<T>(HttpContext http, CommandOutcome<Wallet> outcome, Func<Wallet, long, T> view)
    {
        if (outcome.Error is { } error) return Problem(error);
        http.Response.Headers.ETag = $"\"{outcome.Revision}\"";
        var body = view(outcome.State, outcome.Revision);
        return outcome.WasRepeat ? Results.Ok(body) : Results.Json(body, statusCode: 201);
    }
}
