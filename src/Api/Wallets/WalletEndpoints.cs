using Steller.Application.Pipeline;
using Steller.Api.Admin;
using Steller.Application.Commands;
using Steller.Domain.Partners;
using Steller.Api.Http;
using Steller.Infrastructure.Admin;
using Steller.Application.Partners;
using Steller.Application.Time;
using Steller.Domain;
using Steller.Domain.Wallets;

namespace Steller.Api.Wallets;

/// <summary>
/// Admin wallet commands under /admin/partners/{partnerId}/wallets. Roles: finance moves money (and admin);
/// opening, freezing and unfreezing are admin-only. Money commands are idempotent by transfer id:
/// deposits and withdrawals take it from the Idempotency-Key header, holds and transfers from the body.
/// </summary>
public sealed class WalletEndpoints : IEndpointModule
{
    public sealed record OpenWalletRequest(string? Currency);
    public sealed record MoneyRequest(long? Amount, string? Reference);
    public sealed record PlaceHoldRequest(string? TransferId, long? Amount, DateTimeOffset? ExpiresAt, string? OrderId);
    public sealed record CaptureRequest(long? Amount, IReadOnlyList<CaptureLeg>? Legs);
    public sealed record ReleaseRequest(string? Reason);
    public sealed record CreditLimitRequest(long? Limit);
    public sealed record TransferRequest(string? TransferId, string? ToPartnerId, long? Amount);
    public sealed record FreezeRequest(string? Reason);

    public void Map(IEndpointRouteBuilder app)
    {
        var wallets = AdminWalletGroup.Map(app).WithTags("Wallets (admin)");

        wallets.MapPost("/", async (string partnerId, OpenWalletRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IClock clock) =>
        {
            var errors = new FieldErrors()
                .Check(Partner.IsValidId(partnerId), "partnerId", PartnerIdRule)
                .Check(Currency.TryParse(body.Currency, out _), "currency", "an ISO 4217 code such as EUR");
            if (errors.Any) return errors.Problem();
            if (!(await partners.Load(Partner.StreamName(partnerId))).State.Exists)
                return Problems.Result(404, "partner_not_found", $"No partner '{partnerId}': onboard it first (POST /admin/partners).");
            var outcome = await commands.Execute(Wallet.StreamName(partnerId, body.Currency!), new OpenWallet(partnerId, body.Currency!), RequestMetadata.For(http, clock));
            return WalletResults.Respond(http, outcome, WalletView.Of);
        }).WithSummary("Open the partner's wallet in a currency (idempotent).");

        wallets.MapGet("/{currency}", async (string partnerId, string currency, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands) =>
        {
            if (!Partner.IsValidId(partnerId) || !Currency.TryParse(currency, out _)) return WalletResults.Problem(WalletErrors.NotOpen);
            var (wallet, revision) = await commands.Load(Wallet.StreamName(partnerId, currency));
            if (!wallet.IsOpen) return WalletResults.Problem(WalletErrors.NotOpen);
            http.Response.Headers.ETag = $"\"{revision}\"";
            return Results.Ok(WalletView.Of(wallet, revision));
        }).WithSummary("The wallet's live balance (from its stream, not a read model). ETag = stream revision.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support);

        wallets.MapPost("/{currency}/deposits", (string partnerId, string currency, MoneyRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> c, IClock clock) =>
            Money(partnerId, currency, body, http, c, clock, (id, amount, reference) => new Deposit(id, amount, reference), "deposit"))
            .WithSummary("Record money received from outside (bank transfer reference). Requires Idempotency-Key.")
            .RequireRoles(AdminRoles.Finance);

        wallets.MapPost("/{currency}/withdrawals", (string partnerId, string currency, MoneyRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> c, IClock clock) =>
            Money(partnerId, currency, body, http, c, clock, (id, amount, reference) => new Withdraw(id, amount, reference), "withdrawal"))
            .WithSummary("Pay money out of the wallet. Requires Idempotency-Key.")
            .RequireRoles(AdminRoles.Finance);

        wallets.MapPost("/{currency}/holds", async (string partnerId, string currency, PlaceHoldRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, IClock clock) =>
        {
            var errors = Target(partnerId, currency)
                .Check(IsTransferId(body.TransferId), "transferId", "required: 1–100 characters of letters, digits, '_', '-', '.', ':'")
                .Check(body.Amount is > 0, "amount", "a positive whole number of minor units");
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Wallet.StreamName(partnerId, currency), new PlaceHold(body.TransferId!, body.Amount!.Value, body.ExpiresAt, body.OrderId, clock.UtcNow), RequestMetadata.For(http, clock));
            return WalletResults.Respond(http, outcome, (w, r) => HoldView.Of(w.Holds[body.TransferId!], w, r));
        }).WithSummary("Place a hold (first phase of a two-phase transfer). Idempotent by transferId.")
            .RequireRoles(AdminRoles.Finance);

        wallets.MapPost("/{currency}/holds/{transferId}/capture", async (string partnerId, string currency, string transferId, CaptureRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, IClock clock) =>
        {
            var errors = Target(partnerId, currency)
                .Check(body.Amount is >= 0, "amount", "the amount to capture, 0 or more minor units, at most the held amount")
                .Check(body.Legs is null || body.Legs.All(l => !string.IsNullOrWhiteSpace(l.Account) && l.Amount >= 0), "legs", "each leg names a platform account and a non-negative amount");
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Wallet.StreamName(partnerId, currency), new CaptureHold(transferId, body.Amount!.Value, body.Legs), RequestMetadata.For(http, clock));
            return WalletResults.Respond(http, outcome, (w, r) => HoldView.Of(w.Holds[transferId], w, r));
        }).WithSummary("Capture all or part of a hold; the rest is released. Legs default to platform revenue.")
            .RequireRoles(AdminRoles.Finance);

        wallets.MapPost("/{currency}/holds/{transferId}/release", async (string partnerId, string currency, string transferId, ReleaseRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, IClock clock) =>
        {
            var errors = Target(partnerId, currency);
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Wallet.StreamName(partnerId, currency), new ReleaseHold(transferId, body.Reason ?? "released"), RequestMetadata.For(http, clock));
            return WalletResults.Respond(http, outcome, (w, r) => HoldView.Of(w.Holds[transferId], w, r));
        }).WithSummary("Release a hold: nothing is posted. Releasing twice is a no-op.")
            .RequireRoles(AdminRoles.Finance);

        wallets.MapPut("/{currency}/credit-limit", async (string partnerId, string currency, CreditLimitRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, IClock clock) =>
        {
            var errors = Target(partnerId, currency).Check(body.Limit is >= 0, "limit", "0 or more minor units");
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Wallet.StreamName(partnerId, currency), new SetCreditLimit(body.Limit!.Value), RequestMetadata.For(http, clock));
            return WalletResults.Respond(http, outcome, WalletView.Of);
        }).WithSummary("Let available funds go down to minus this limit.")
            .RequireRoles(AdminRoles.Finance);

        wallets.MapPost("/{currency}/transfers", async (string partnerId, string currency, TransferRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IClock clock) =>
        {
            var errors = Target(partnerId, currency)
                .Check(IsTransferId(body.TransferId), "transferId", "required: 1–100 characters of letters, digits, '_', '-', '.', ':'")
                .Check(Partner.IsValidId(body.ToPartnerId) && body.ToPartnerId != partnerId, "toPartnerId", "another partner's id")
                .Check(body.Amount is > 0, "amount", "a positive whole number of minor units");
            if (errors.Any) return errors.Problem();
            // Agency funding only: the receiving partner must be a sub-partner of this one.
            if ((await partners.Load(Partner.StreamName(body.ToPartnerId!))).State.ParentPartnerId != partnerId)
                return Problems.Result(422, "not_a_sub_partner", $"Partner {body.ToPartnerId} is not a sub-partner of {partnerId}; wallet transfers go from an agency to its own partners.");
            var (target, _) = await commands.Load(Wallet.StreamName(body.ToPartnerId!, currency));
            if (!target.IsOpen) return Problems.Result(404, "wallet_not_found", $"Partner {body.ToPartnerId} has no {currency} wallet.");
            var metadata = RequestMetadata.For(http, clock);
            var outcome = await commands.Execute(Wallet.StreamName(partnerId, currency), new TransferOut(body.TransferId!, body.Amount!.Value, body.ToPartnerId!), metadata);
            if (outcome.Error is null)
            {
                // The incoming half right away; if this process dies first, WalletTransferCompletion finishes it.
                var incoming = await commands.Execute(Wallet.StreamName(body.ToPartnerId!, currency), new TransferIn(body.TransferId!, body.Amount.Value, partnerId), metadata);
                if (incoming.Error is { } e) return WalletResults.Problem(e);
            }
            return WalletResults.Respond(http, outcome, (w, r) => new TransferView(body.TransferId!, "transfer-out", body.Amount.Value, WalletView.Of(w, r)));
        }).WithSummary("Move funds from this wallet to another partner's wallet (agency parent to child). Idempotent by transferId.")
            .RequireRoles(AdminRoles.Finance);

        wallets.MapPost("/{currency}/freeze", async (string partnerId, string currency, FreezeRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, IClock clock) =>
        {
            var errors = Target(partnerId, currency).Check(!string.IsNullOrWhiteSpace(body.Reason), "reason", "say why");
            if (errors.Any) return errors.Problem();
            return WalletResults.Respond(http, await commands.Execute(Wallet.StreamName(partnerId, currency), new FreezeWallet(body.Reason!), RequestMetadata.For(http, clock)), WalletView.Of);
        }).WithSummary("Refuse debits until unfrozen.");

        wallets.MapPost("/{currency}/unfreeze", async (string partnerId, string currency, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, IClock clock) =>
        {
            var errors = Target(partnerId, currency);
            if (errors.Any) return errors.Problem();
            return WalletResults.Respond(http, await commands.Execute(Wallet.StreamName(partnerId, currency), new UnfreezeWallet(), RequestMetadata.For(http, clock)), WalletView.Of);
        }).WithSummary("Allow debits again.");
    }

    private static async Task<IResult> Money(string partnerId, string currency, MoneyRequest body, HttpContext http, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> commands, IClock clock,
        Func<string, long, string, IWalletCommand> command, string kind)
    {
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        var errors = Target(partnerId, currency)
            .Check(IsTransferId(key), "Idempotency-Key", "header required: the transfer id, 1–100 characters of letters, digits, '_', '-', '.', ':'")
            .Check(body.Amount is > 0, "amount", "a positive whole number of minor units")
            .Check(!string.IsNullOrWhiteSpace(body.Reference) && body.Reference.Length <= 200, "reference", "the external payment reference, at most 200 characters");
        if (errors.Any) return errors.Problem();
        var outcome = await commands.Execute(Wallet.StreamName(partnerId, currency), command(key, body.Amount!.Value, body.Reference!), RequestMetadata.For(http, clock));
        return WalletResults.Respond(http, outcome, (w, r) => new TransferView(key, kind, body.Amount.Value, WalletView.Of(w, r)));
    }

    private const string PartnerIdRule = "1–64 of a-z, 0-9 and '-', not starting with '-'";

    private static FieldErrors Target(string partnerId, string currency) => new FieldErrors()
        .Check(Partner.IsValidId(partnerId), "partnerId", PartnerIdRule)
        .Check(Currency.TryParse(currency, out _), "currency", "an ISO 4217 code such as EUR");

    private static bool IsTransferId(string? id) =>
        id is { Length: > 0 and <= 100 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');
}

/// <summary>The route group of admin wallet commands: behind admin bearer tokens (admin-only unless an endpoint names more roles).</summary>
public static class AdminWalletGroup
{
    public static RouteGroupBuilder Map(IEndpointRouteBuilder app) => AdminEndpoints.Group(app).MapGroup("/partners/{partnerId}/wallets");
}
