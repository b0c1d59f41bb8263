using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Commands;
using Steller.Application.Partners.IssuingApiKey;
using Steller.Application.Partners.OnboardingPartner;
using Steller.Application.Partners.ReactivatingPartner;
using Steller.Application.Partners.RevokingApiKey;
using Steller.Application.Partners.SettingIpAllowlist;
using Steller.Application.Partners.SettingMargin;
using Steller.Application.Partners.SettingRateLimit;
using Steller.Application.Partners.SuspendingPartner;
using Steller.Application.Partners.ViewingPartner;
using Steller.Application.Time;
using Steller.Domain.Partners;
using Steller.Infrastructure.Admin;
using Steller.Projections.Partners;
using Steller.Projections.Partners.ListingPartners;

namespace Steller.Api.Partners;

/// <summary>
/// Admin: onboard partners, issue and revoke their API keys, set margins and IP allowlists, suspend and reactivate.
/// Each route binds its body, sends one use case request and maps the outcome; writes honour If-Match.
/// </summary>
public sealed class AdminPartnerEndpoints : IEndpointModule
{
    public sealed record OnboardPartnerBody(string? PartnerId, string? Name, string? ContactEmail, string? ParentPartnerId);
    public sealed record RevokeApiKeyBody(string? Reason);
    public sealed record SetMarginBody(string? Basis, int BasisPoints);
    public sealed record SetIpAllowlistBody(IReadOnlyList<string>? Cidrs);
    public sealed record SetRateLimitBody(int RequestsPerSecond, int Burst);
    public sealed record SuspendPartnerBody(string? Reason);
    public sealed record IssuedApiKeyResponse(string PartnerId, string KeyId, string Secret);

    /// <summary>Partner refusals at the edge: unknown things 404, clashes 409, bad input 400.</summary>
    public static readonly ErrorStatuses Statuses = new ErrorStatuses(fallback: 400)
        .With(404, "partner_not_found", "api_key_not_found")
        .With(409, "partner_exists", "api_key_exists", "partner_suspended");

    public void Map(IEndpointRouteBuilder app)
    {
        var partners = AdminEndpoints.Group(app).MapGroup("/partners").WithTags("Admin: partners");
        MapOnboardingAndReading(partners);
        MapKeys(partners);
        MapSettings(partners);
    }

    private static void MapOnboardingAndReading(RouteGroupBuilder partners)
    {
        partners.MapPost("/", async (OnboardPartnerBody body, IMediator mediator, HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var outcome = await mediator.Send(new OnboardPartnerRequest(body.PartnerId, body.Name, body.ContactEmail,
                    body.ParentPartnerId, RequestMetadata.For(http, clock)), ct);
                if (outcome.Error is not null) return Outcomes.Problem(http, outcome, Statuses);
                http.Response.Headers.ETag = ETag.Of(outcome.Revision);
                return Results.Created($"/admin/partners/{outcome.State.Id}", PartnerView.Of(outcome.State, outcome.Revision));
            })
            .WithSummary("Onboard a partner (the id is generated when none is given; a repeat with the same details is a no-op).")
            .Produces<PartnerView>(201).ProducesProblem(400).ProducesProblem(409);

        partners.MapGet("/", async (string? q, string? status, string? limit, string? after, IMediator mediator, CancellationToken ct) =>
            {
                if (q is { Length: > 200 } || (q is not null && q.Any(char.IsControl)))
                    return Problems.Result(400, "invalid_query", "'q' must be at most 200 characters without control characters.",
                        new Dictionary<string, object?> { ["parameter"] = "q" });
                if (status is not (null or "Active" or "Suspended"))
                    return Problems.Result(400, "invalid_query", "'status' must be Active or Suspended.",
                        new Dictionary<string, object?> { ["parameter"] = "status" });
                if (!QueryParameters.TryLimit(limit, PartnersQuery.DefaultLimit, PartnersQuery.MaxLimit, out var count, out var problem))
                    return problem!;
                if (!PartnersQuery.TryCursor(after, out var afterId)) return QueryParameters.InvalidCursor();
                return Results.Ok(await mediator.Send(new ListPartnersRequest(string.IsNullOrWhiteSpace(q) ? null : q.Trim(), status, count,
                    afterId), ct));
            })
            .WithSummary("Partners from read.partners (eventually consistent), by id: q matches an id prefix or any part of the name "
                         + "(case-insensitive), status Active or Suspended. Pages of `limit`, next page with after=`next`.")
            .Produces<PartnerPage>().ProducesProblem(400)
            .RequireRoles(AdminRoles.Support, AdminRoles.Finance, AdminRoles.Analyst);

        partners.MapGet("/{partnerId}", async (string partnerId, IMediator mediator, HttpContext http, CancellationToken ct) =>
            {
                if (await mediator.Send(new GetPartnerRequest(partnerId), ct) is not { } view)
                    return Outcomes.Problem(PartnerErrors.NotFound, Statuses);
                http.Response.Headers.ETag = ETag.Of(view.Revision);
                return Results.Ok(view);
            })
            .WithSummary("A partner: details, status, margin, IP allowlist and API keys (never their secrets). ETag = stream revision.")
            .Produces<PartnerView>().ProducesProblem(404)
            .RequireRoles(AdminRoles.Support, AdminRoles.Finance);
    }

    private static void MapKeys(RouteGroupBuilder partners)
    {
        partners.MapPost("/{partnerId}/api-keys",
                async (string partnerId, IMediator mediator, HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var issued = await mediator.Send(new IssueApiKeyRequest(partnerId, RequestMetadata.For(http, clock), IfMatch.Of(http)), ct);
                if (issued.Key is not { } key) return Outcomes.Problem(http, issued.Outcome, Statuses);
                http.Response.Headers.ETag = ETag.Of(issued.Outcome.Revision);
                return Results.Created($"/admin/partners/{partnerId}", new IssuedApiKeyResponse(partnerId, key.KeyId, key.Secret));
            })
            .WithSummary("Issue an API key. The secret is in this response only; it is stored encrypted and never shown again.")
            .Produces<IssuedApiKeyResponse>(201).ProducesProblem(404).ProducesProblem(409).AcceptsIfMatch();

        partners.MapPost("/{partnerId}/api-keys/{keyId}/revoke", async (string partnerId, string keyId, RevokeApiKeyBody? body,
                IMediator mediator, HttpContext http, IClock clock, CancellationToken ct) =>
                View(http, await mediator.Send(new RevokeApiKeyRequest(partnerId, keyId, body?.Reason, RequestMetadata.For(http, clock),
                    IfMatch.Of(http)), ct)))
            .WithSummary("Revoke an API key; requests signed with it are refused from the next one on.")
            .Produces<PartnerView>().ProducesProblem(404).AcceptsIfMatch();
    }

    private static void MapSettings(RouteGroupBuilder partners)
    {
        partners.MapPut("/{partnerId}/margin", async (string partnerId, SetMarginBody body, IMediator mediator, HttpContext http,
                IClock clock, CancellationToken ct) =>
                View(http, await mediator.Send(new SetMarginRequest(partnerId, body.Basis, body.BasisPoints,
                    RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Set the margin: basis 'cost-plus' or 'discount-share' and 0–10000 basis points.")
            .Produces<PartnerView>().ProducesProblem(400).ProducesProblem(404).AcceptsIfMatch();

        partners.MapPut("/{partnerId}/ip-allowlist", async (string partnerId, SetIpAllowlistBody body, IMediator mediator, HttpContext http,
                IClock clock, CancellationToken ct) =>
                View(http, await mediator.Send(new SetIpAllowlistRequest(partnerId, body.Cidrs, RequestMetadata.For(http, clock),
                    IfMatch.Of(http)), ct)))
            .WithSummary("Replace the IP allowlist (CIDRs; an empty list allows every address).")
            .Produces<PartnerView>().ProducesProblem(400).ProducesProblem(404).AcceptsIfMatch();

        partners.MapPut("/{partnerId}/rate-limit", async (string partnerId, SetRateLimitBody body, IMediator mediator, HttpContext http,
                IClock clock, CancellationToken ct) =>
                View(http, await mediator.Send(new SetRateLimitRequest(partnerId, body.RequestsPerSecond, body.Burst,
                    RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Set the partner's request rate limit (token bucket: 1–100000 requests per second, burst 1–1000000); over it "
                         + "signed requests answer 429 rate_limited. Without one, RateLimits:RequestsPerSecond and RateLimits:Burst apply.")
            .Produces<PartnerView>().ProducesProblem(400).ProducesProblem(404).AcceptsIfMatch();

        partners.MapPost("/{partnerId}/suspend", async (string partnerId, SuspendPartnerBody body, IMediator mediator, HttpContext http,
                IClock clock, CancellationToken ct) =>
                View(http, await mediator.Send(new SuspendPartnerRequest(partnerId, body.Reason, RequestMetadata.For(http, clock),
                    IfMatch.Of(http)), ct)))
            .WithSummary("Suspend a partner: its signed requests are refused with partner_suspended.")
            .Produces<PartnerView>().ProducesProblem(400).ProducesProblem(404).AcceptsIfMatch();

        partners.MapPost("/{partnerId}/reactivate",
                async (string partnerId, IMediator mediator, HttpContext http, IClock clock, CancellationToken ct) =>
                View(http, await mediator.Send(new ReactivatePartnerRequest(partnerId, RequestMetadata.For(http, clock),
                    IfMatch.Of(http)), ct)))
            .WithSummary("Reactivate a suspended partner.")
            .Produces<PartnerView>().ProducesProblem(404).AcceptsIfMatch();
    }

    private static IResult View(HttpContext http, CommandOutcome<Partner> outcome) => Outcomes.Ok(http, outcome, Statuses, PartnerView.Of);
}
