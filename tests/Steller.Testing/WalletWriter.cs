using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Testing;

/// <summary>
/// Writes real wallet events to a store without the command pipeline: folds each wallet, asks <see cref="Wallet.Decide"/>
/// and appends what it emits to "wallet-{partnerId}-{currency}" with the expected revision. Set <see cref="Now"/> to
/// choose the recorded time of the next events.
/// </summary>
public sealed class WalletWriter(IEventStore store)
{
    public static readonly EventTypeRegistry Registry = EventTypeRegistry.ForDomain();

    private readonly Dictionary<string, (Wallet State, long Revision)> wallets = new();

    public DateTimeOffset? Now { get; set; }
    public string Actor { get; set; } = "test";

    public static string Stream(string partnerId, string currency) => $"wallet-{partnerId}-{currency}";

    public async Task<IReadOnlyList<IWalletEvent>> Do(string partnerId, string currency, IWalletCommand command)
    {
        var stream = Stream(partnerId, currency);
        var (state, revision) = wallets.TryGetValue(stream, out var w) ? w : (Wallet.Empty, -1L);
        var decision = Wallet.Decide(command, state);
        if (decision.Failed) throw new InvalidOperationException($"{command} refused: {decision.Error!.Code}");
        if (decision.Events.Count == 0) return [];
        var at = Now ?? DateTimeOffset.UtcNow;
        at = new DateTimeOffset(at.UtcTicks / 10 * 10, TimeSpan.Zero);
        var data = decision.Events.Select(e => new EventData(Guid.NewGuid(), Registry.NameOf(e.GetType()), Registry.Serialize(e),
            new EventMetadata($"corr-{Guid.NewGuid():N}", $"cmd-{Guid.NewGuid():N}", Guid.NewGuid(), Actor, at))).ToList();
        await store.Append(stream, revision < 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(revision), data);
        foreach (var e in decision.Events) state = Wallet.Evolve(state, e);
        wallets[stream] = (state, revision + decision.Events.Count);
        return decision.Events;
    }

    public Wallet State(string partnerId, string currency) => wallets[Stream(partnerId, currency)].State;

    /// <summary>Onboards the partner a wallet belongs to (wallet routes answer 404 partner_not_found for a partner that never was).</summary>
    public async Task Onboard(string partnerId, string? parentPartnerId = null)
    {
        var decision = Partner.Decide(new OnboardPartner(partnerId, partnerId, $"ops@{partnerId}.test", parentPartnerId, Now ?? DateTimeOffset.UtcNow), Partner.Empty);
        if (decision.Failed) throw new InvalidOperationException($"onboarding {partnerId} refused: {decision.Error!.Code}");
        var data = decision.Events.Select(e => new EventData(Guid.NewGuid(), Registry.NameOf(e.GetType()), Registry.Serialize(e),
            new EventMetadata($"corr-{Guid.NewGuid():N}", $"cmd-{Guid.NewGuid():N}", Guid.NewGuid(), Actor, Now ?? DateTimeOffset.UtcNow))).ToList();
        await store.Append(Partner.StreamName(partnerId), ExpectedRevision.NoStream, data);
    }

    public Task Open(string p, string c) => Do(p, c, new OpenWallet(p, c));
    public Task Deposit(string p, string c, long amount, string? transferId = null, string reference = "bank") =>
        Do(p, c, new Deposit(transferId ?? NewId(), amount, reference));
    public Task Withdraw(string p, string c, long amount, string? transferId = null) => Do(p, c, new Withdraw(transferId ?? NewId(), amount, "payout"));
    public Task Hold(string p, string c, string transferId, long amount, string? orderId = null) =>
        Do(p, c, new PlaceHold(transferId, amount, null, orderId, DateTimeOffset.UtcNow));
    public Task Capture(string p, string c, string transferId, long amount, params CaptureLeg[] legs) =>
        Do(p, c, new CaptureHold(transferId, amount, legs.Length == 0 ? null : legs));
    public Task Release(string p, string c, string transferId) => Do(p, c, new ReleaseHold(transferId, "cancelled"));
    public Task CreditLimit(string p, string c, long limit) => Do(p, c, new SetCreditLimit(limit));
    public Task Freeze(string p, string c) => Do(p, c, new FreezeWallet("review"));

    /// <summary>Parent to child, both halves.</summary>
    public async Task Transfer(string from, string to, string c, long amount)
    {
        var id = NewId();
        await Do(from, c, new TransferOut(id, amount, to));
        await Do(to, c, new TransferIn(id, amount, from));
    }

    public static string NewId() => $"t-{Guid.NewGuid():N}";
}
