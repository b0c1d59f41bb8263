using Steller.Api.Admin;
using Steller.Infrastructure.Admin;
using Steller.Api.Http;
using Steller.Application;
using Steller.Application.Partners;
using Steller.Application.Partners.IssuingApiKey;
using Steller.Application.Partners.OnboardingPartner;
using Steller.Application.Partners.ReactivatingPartner;
using Steller.Application.Partners.RevokingApiKey;
using Steller.Application.Partners.SettingIpAllowlist;
using Steller.Application.Partners.SettingMargin;
using Steller.Application.Partners.SuspendingPartner;
using Steller.Application.Partners.ViewingPartner;
using Steller.Domain;

namespace Steller.Api.Partners;

/// <summary>Admin: onboard partners, issue and revoke their API keys, set margins and IP allowlists, suspend and reactivate.</summary>
public sealed class AdminPartnerEndpoints : IEndpointModule
{
    public sealed record RevokeApiKeyRequest(string? Reason);
    public sealed record IssuedApiKeyResponse(string PartnerId, string KeyId, string Secret);

    public void Map(IEndpointRouteBuilder app)
    {
        var partners = AdminEndpoints.Group(app).MapGroup("/partners").WithTags("Admin: partners");

        partners.MapPost("/", async (OnboardPartnerRequest request, OnboardPartnerHandler handler, HttpContext http, CancellationToken ct) =>
            {
                var outcome = await handler.Handle(request, Context(http), ct);
                return outcome.Succeeded
                    ? Results.Created($"/admin/partners/{outcome.State.Id}", PartnerView.Of(outcome.State, outcome.Revision?.Value ?? -1))
                    : Refused(outcome.Error!);
            })
            .WithSummary("Onboard a partner (the id is generated when none is given; a repeat with the same details is a no-op).")
            .Produces<PartnerView>(201).ProducesProblem(400).ProducesProblem(409);

        partners.MapGet("/{partnerId}", async (string partnerId, PartnerStreams streams, HttpContext http, CancellationToken ct) =>
            {
                var (state, revision) = await streams.Load(partnerId, ct);
                if (!state.Exists) return Refused(Domain.Partners.PartnerErrors.NotFound);
                http.Response.Headers.ETag = $"\"{revision!.Value.Value}\"";
                return Results.Ok(PartnerView.Of(state, revision.Value.Value));
            })
            .WithSummary("A partner: details, status, margin, IP allowlist and API keys (never their secrets).")
            .Produces<PartnerView>().ProducesProblem(404)
            .RequireRoles(AdminRoles.Support, AdminRoles.Finance);

        partners.MapPost("/{partnerId}/api-keys", async (string partnerId, IssueApiKeyHandler handler, HttpContext http, CancellationToken ct) =>
            {
                var (outcome, key) = await handler.Handle(partnerId, Context(http), ct);
                return key is not null
                    ? Results.Created($"/admin/partners/{partnerId}", new IssuedApiKeyResponse(partnerId, key.KeyId, key.Secret))
                    : Refused(outcome.Error!);
            })
            .WithSummary("Issue an API key. The secret is in this response only; it is stored encrypted and never shown again.")
            .Produces<IssuedApiKeyResponse>(201).ProducesProblem(404).ProducesProblem(409);

        partners.MapPost("/{partnerId}/api-keys/{keyId}/revoke", async (string partnerId, string keyId, RevokeApiKeyRequest? request,
                RevokeApiKeyHandler handler, HttpContext http, CancellationToken ct) =>
                View(await handler.Handle(partnerId, keyId, request?.Reason, Context(http), ct)))
            .WithSummary("Revoke an API key; requests signed with it are refused from the next one on.")
            .Produces<PartnerView>().ProducesProblem(404);

        partners.MapPut("/{partnerId}/margin", async (string partnerId, SetMarginRequest request, SetMarginHandler handler, HttpContext http, CancellationToken ct) =>
                View(await handler.Handle(partnerId, request, Context(http), ct)))
            .WithSummary("Set the margin: basis 'cost-plus' or 'discount-share' and 0–10000 basis points.")
            .Produces<PartnerView>().ProducesProblem(400).ProducesProblem(404);

        partners.MapPut("/{partnerId}/ip-allowlist", async (string partnerId, SetIpAllowlistRequest request, SetIpAllowlistHandler handler, HttpContext http, CancellationToken ct) =>
                View(await handler.Handle(partnerId, request, Context(http), ct)))
            .WithSummary("Replace the IP allowlist (CIDRs; an empty list allows every address).")
            .Produces<PartnerView>().ProducesProblem(400).ProducesProblem(404);

        partners.MapPost("/{partnerId}/suspend", async (string partnerId, SuspendPartnerRequest request, SuspendPartnerHandler handler, HttpContext http, CancellationToken ct) =>
                View(await handler.Handle(partnerId, request, Context(http), ct)))
            .WithSummary("Suspend a partner: its signed requests are refused with partner_suspended.")
            .Produces<PartnerView>().ProducesProblem(400).ProducesProblem(404);

        partners.MapPost("/{partnerId}/reactivate", async (string partnerId, ReactivatePartnerHandler handler, HttpContext http, CancellationToken ct) =>
                View(await handler.Handle(partnerId, Context(http), ct)))
            .WithSummary("Reactivate a suspended partner.")
            .Produces<PartnerView>().ProducesProblem(404);
    }

    private static CommandContext Context(HttpContext http) =>
        CommandContext.New(Correlation.Of(http), RequestMetadata.AdminActor(http));

    private static IResult View(PartnerOutcome outcome) =>
        outcome.Succeeded ? Results.Ok(PartnerView.Of(outcome.State, outcome.Revision?.Value ?? -1)) : Refused(outcome.Error!);

    /// <summary>Domain errors at the edge: unknown things 404, clashes 409, bad input 400.</summary>
    public static IResult Refused(DomainError error) => error.Code switch
    {
        "partner_not_found" or "api_key_not_found" => Problems.Result(404, error.Code, error.Message),
        "partner_exists" or "api_key_exists" or "partner_suspended" or "concurrency_conflict" => Problems.Result(409, error.Code, error.Message),
        _ => Problems.Result(400, error.Code, error.Message),
    };
}
