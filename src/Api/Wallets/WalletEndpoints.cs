using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Commands;
using Steller.Application.Time;
using Steller.Application.Wallets;
using Steller.Application.Wallets.CapturingHold;
using Steller.Application.Wallets.Depositing;
using Steller.Application.Wallets.FreezingWallet;
using Steller.Application.Wallets.OpeningWallet;
using Steller.Application.Wallets.PlacingHold;
using Steller.Application.Wallets.ReleasingHold;
using Steller.Application.Wallets.SettingCreditLimit;
using Steller.Application.Wallets.TransferringFunds;
using Steller.Application.Wallets.UnfreezingWallet;
using Steller.Application.Wallets.ViewingWallet;
using Steller.Application.Wallets.Withdrawing;
using Steller.Domain.Wallets;
using Steller.Infrastructure.Admin;

namespace Steller.Api.Wallets;

/// <summary>
/// Admin wallet commands under /admin/partners/{partnerId}/wallets. Roles: finance moves money (and admin);
/// opening, freezing and unfreezing are admin-only. Money commands are idempotent by transfer id:
/// deposits and withdrawals take it from the Idempotency-Key header, holds and transfers from the body.
/// Each route binds, sends one use case request and maps the outcome; writes honour If-Match.
/// </summary>
public sealed class WalletEndpoints : IEndpointModule
{
    public sealed record OpenWalletBody(string? Currency);
    public sealed record MoneyBody(long? Amount, string? Reference);
    public sealed record PlaceHoldBody(string? TransferId, long? Amount, DateTimeOffset? ExpiresAt, string? OrderId);
    public sealed record CaptureHoldBody(long? Amount, IReadOnlyList<CaptureLeg>? Legs);
    public sealed record ReleaseHoldBody(string? Reason);
    public sealed record SetCreditLimitBody(long? Limit);
    public sealed record TransferFundsBody(string? TransferId, string? ToPartnerId, long? Amount);
    public sealed record FreezeWalletBody(string? Reason);

    /// <summary>
    /// Wallet refusals at the edge: unknown things 404, clashes 409, the rest 422 (understood, but refused by the rules).
    /// </summary>
    public static readonly ErrorStatuses Statuses = new ErrorStatuses()
        .With(404, "partner_not_found", WalletErrors.NotOpen.Code, WalletErrors.HoldNotFound.Code)
        .With(409, WalletErrors.IdempotencyConflict.Code, WalletErrors.AlreadyOpen.Code, WalletErrors.HoldReleased.Code,
            WalletErrors.HoldCaptured.Code, WalletErrors.Frozen.Code);

    public void Map(IEndpointRouteBuilder app)
    {
        var wallets = AdminWalletGroup.Map(app).WithTags("Wallets (admin)");
        MapOpeningAndReading(wallets);
        MapMoney(wallets);
        MapHolds(wallets);
        MapCreditAndTransfers(wallets);
        MapFreezing(wallets);
    }

    private static void MapOpeningAndReading(RouteGroupBuilder wallets)
    {
        wallets.MapPost("/", async (string partnerId, OpenWalletBody body, IMediator mediator, HttpContext http, IClock clock,
                CancellationToken ct) =>
            {
                var request = new OpenWalletRequest(partnerId, body.Currency, RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Outcomes.Respond(http, await mediator.Send(request, ct), Statuses, WalletView.Of);
            })
            .WithSummary("Open the partner's wallet in a currency (idempotent).")
            .AcceptsIfMatch();

        wallets.MapGet("/{currency}",
                async (string partnerId, string currency, IMediator mediator, HttpContext http, CancellationToken ct) =>
            {
                var lookup = await mediator.Send(new GetWalletRequest(partnerId, currency), ct);
                if (lookup.Wallet is not { } wallet) return Outcomes.Problem(lookup.Error!, Statuses);
                http.Response.Headers.ETag = ETag.Of(wallet.Revision);
                return Results.Ok(wallet);
            })
            .WithSummary("The wallet's live balance (from its stream, not a read model). ETag = stream revision.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support);
    }

    private static void MapMoney(RouteGroupBuilder wallets)
    {
        wallets.MapPost("/{currency}/deposits", async (string partnerId, string currency, MoneyBody body, IMediator mediator,
                HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var key = IdempotencyKey(http);
                var request = new DepositRequest(partnerId, currency, key, body.Amount, body.Reference, RequestMetadata.For(http, clock),
                    IfMatch.Of(http));
                return Money(http, await mediator.Send(request, ct), key!, "deposit", body.Amount);
            })
            .WithSummary("Record money received from outside (bank transfer reference). Requires Idempotency-Key.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();

        wallets.MapPost("/{currency}/withdrawals", async (string partnerId, string currency, MoneyBody body, IMediator mediator,
                HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var key = IdempotencyKey(http);
                var request = new WithdrawRequest(partnerId, currency, key, body.Amount, body.Reference, RequestMetadata.For(http, clock),
                    IfMatch.Of(http));
                return Money(http, await mediator.Send(request, ct), key!, "withdrawal", body.Amount);
            })
            .WithSummary("Pay money out of the wallet. Requires Idempotency-Key.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();
    }

    private static void MapHolds(RouteGroupBuilder wallets)
    {
        wallets.MapPost("/{currency}/holds", async (string partnerId, string currency, PlaceHoldBody body, IMediator mediator,
                HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var request = new PlaceHoldRequest(partnerId, currency, body.TransferId, body.Amount, body.ExpiresAt, body.OrderId,
                    RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Hold(http, await mediator.Send(request, ct), body.TransferId!);
            })
            .WithSummary("Place a hold (first phase of a two-phase transfer). Idempotent by transferId.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();

        wallets.MapPost("/{currency}/holds/{transferId}/capture", async (string partnerId, string currency, string transferId,
                CaptureHoldBody body, IMediator mediator, HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var request = new CaptureHoldRequest(partnerId, currency, transferId, body.Amount, body.Legs,
                    RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Hold(http, await mediator.Send(request, ct), transferId);
            })
            .WithSummary("Capture all or part of a hold; the rest is released. Legs default to platform revenue.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();

        wallets.MapPost("/{currency}/holds/{transferId}/release", async (string partnerId, string currency, string transferId,
                ReleaseHoldBody body, IMediator mediator, HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var request = new ReleaseHoldRequest(partnerId, currency, transferId, body.Reason, RequestMetadata.For(http, clock),
                    IfMatch.Of(http));
                return Hold(http, await mediator.Send(request, ct), transferId);
            })
            .WithSummary("Release a hold: nothing is posted. Releasing twice is a no-op.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();
    }

    private static void MapCreditAndTransfers(RouteGroupBuilder wallets)
    {
        wallets.MapPut("/{currency}/credit-limit", async (string partnerId, string currency, SetCreditLimitBody body, IMediator mediator,
                HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var request = new SetCreditLimitRequest(partnerId, currency, body.Limit, RequestMetadata.For(http, clock),
                    IfMatch.Of(http));
                return View(http, await mediator.Send(request, ct));
            })
            .WithSummary("Let available funds go down to minus this limit.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();

        wallets.MapPut("/{currency}/low-balance-threshold", async (string partnerId, string currency,
                Steller.Api.Partners.PartnerApiEndpoints.LowBalanceThresholdBody body, IMediator mediator, HttpContext http, IClock clock,
                CancellationToken ct) =>
            {
                var request = new Steller.Application.Wallets.SettingLowBalanceThreshold.SetLowBalanceThresholdRequest(partnerId, currency,
                    body.Threshold, RequestMetadata.For(http, clock), IfMatch.Of(http));
                return View(http, await mediator.Send(request, ct));
            })
            .WithSummary("Sets the partner's low-balance threshold on this wallet (minor units; null removes it): a wallet.low_balance "
                         + "webhook goes out once per crossing below it. The same as the partner's PUT /v1/wallets/{currency}/low-balance-threshold.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support).AcceptsIfMatch();

        wallets.MapPost("/{currency}/transfers", async (string partnerId, string currency, TransferFundsBody body, IMediator mediator,
                HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var request = new TransferFundsRequest(partnerId, currency, body.TransferId, body.ToPartnerId, body.Amount,
                    RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Money(http, await mediator.Send(request, ct), body.TransferId!, "transfer-out", body.Amount);
            })
            .WithSummary("Move funds from this wallet to another partner's wallet (agency parent to child). Idempotent by transferId. "
                         + "If-Match applies to this (the source) wallet.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();
    }

    private static void MapFreezing(RouteGroupBuilder wallets)
    {
        wallets.MapPost("/{currency}/freeze", async (string partnerId, string currency, FreezeWalletBody body, IMediator mediator,
                HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var request = new FreezeWalletRequest(partnerId, currency, body.Reason, RequestMetadata.For(http, clock), IfMatch.Of(http));
                return View(http, await mediator.Send(request, ct));
            })
            .WithSummary("Refuse debits until unfrozen.")
            .AcceptsIfMatch();

        wallets.MapPost("/{currency}/unfreeze", async (string partnerId, string currency, IMediator mediator, HttpContext http,
                IClock clock, CancellationToken ct) =>
            {
                var request = new UnfreezeWalletRequest(partnerId, currency, RequestMetadata.For(http, clock), IfMatch.Of(http));
                return View(http, await mediator.Send(request, ct));
            })
            .WithSummary("Allow debits again.")
            .AcceptsIfMatch();
    }

    /// <summary>The transfer id of a deposit or withdrawal: the Idempotency-Key header (null when absent).</summary>
    private static string? IdempotencyKey(HttpContext http) =>
        http.Request.Headers.TryGetValue(WalletRules.IdempotencyKey, out var key) ? key.ToString() : null;

    private static IResult Money(HttpContext http, CommandOutcome<Wallet> outcome, string transferId, string kind, long? amount) =>
        Outcomes.Respond(http, outcome, Statuses, (w, r) => new TransferView(transferId, kind, amount!.Value, WalletView.Of(w, r)));

    private static IResult Hold(HttpContext http, CommandOutcome<Wallet> outcome, string transferId) =>
        Outcomes.Respond(http, outcome, Statuses, (w, r) => HoldView.Of(w.Holds[transferId], w, r));

    private static IResult View(HttpContext http, CommandOutcome<Wallet> outcome) =>
        Outcomes.Respond(http, outcome, Statuses, WalletView.Of);
}

/// <summary>The route group of admin wallet routes: behind admin bearer tokens (admin-only unless an endpoint names more roles).</summary>
public static class AdminWalletGroup
{
    public static RouteGroupBuilder Map(IEndpointRouteBuilder app) => AdminEndpoints.Group(app).MapGroup("/partners/{partnerId}/wallets");
}
