using System.Security.Cryptography;
using System.Text;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Application.Time;
using Steller.Domain;
using Steller.Domain.Partners;

namespace Steller.Application.Partners;

/// <summary>A partner as loaded: its state and the revision to append after (null: no stream).</summary>
public sealed record LoadedPartner(Partner State, StreamRevision? Revision);

/// <summary>What a partner command came to: the state after it, or the domain error that refused it.</summary>
public sealed record PartnerOutcome(Partner State, DomainError? Error, StreamRevision? Revision)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Loads partner streams (folding their events) and runs decisions against them: load, decide, append with the
/// expected revision; a concurrent writer makes it re-load and decide again, a few times.
/// </summary>
public sealed class PartnerStreams(IEventStore store, EventTypeRegistry registry, IClock clock)
{
    public const int MaxAttempts = 8;

    /// <summary>What a command gets when other writers kept winning the race for the stream: retry later (409).</summary>
    public static readonly DomainError ConcurrencyConflict = new("concurrency_conflict", "The partner kept changing while this command was decided; try again.");

    public IClock Clock => clock;

    public async Task<LoadedPartner> Load(string partnerId, CancellationToken ct = default)
    {
        if (!Partner.IsValidId(partnerId)) return new LoadedPartner(Partner.Empty, null);
        var slice = await store.ReadStream(Partner.StreamName(partnerId), ct: ct);
        var state = Partner.Empty;
        foreach (var e in slice.Events)
            if (registry.Deserialize(e.Type, e.Data.Span) is IPartnerEvent pe) state = Partner.Evolve(state, pe);
        return new LoadedPartner(state, slice.LastRevision);
    }

    /// <summary>
    /// Decides <paramref name="decide"/> on the current state and appends what it emits. Event ids are derived from
    /// <paramref name="eventIdSeed"/> when the command carries an id of its own (a repeat then appends nothing), else random.
    /// </summary>
    public async Task<PartnerOutcome> Execute(string partnerId, Func<Partner, Decision<IPartnerEvent>> decide, CommandContext context,
        string? eventIdSeed = null, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (state, revision) = await Load(partnerId, ct);
            var decision = decide(state);
            if (decision.Failed) return new PartnerOutcome(state, decision.Error, revision);
            if (decision.IsNoOp) return new PartnerOutcome(state, null, revision);

            var metadata = context.Metadata(clock.UtcNow);
            var events = decision.Events.Select((e, i) => new EventData(
                eventIdSeed is null ? Guid.NewGuid() : DeterministicId($"{Partner.StreamName(partnerId)}|{registry.NameOf(e.GetType())}|{eventIdSeed}|{i}"),
                registry.NameOf(e.GetType()), registry.Serialize(e), metadata)).ToList();
            try
            {
                var result = await store.Append(Partner.StreamName(partnerId), ExpectedRevision.After(revision), events, ct);
                return new PartnerOutcome(decision.Events.Aggregate(state, Partner.Evolve), null, result.CurrentRevision);
            }
            catch (WrongExpectedRevisionException)
            {
                // Someone appended in between: decide again on the newer state, after a short jittered pause.
                if (attempt == MaxAttempts) return new PartnerOutcome(state, ConcurrencyConflict, revision);
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), ct);
            }
        }
    }

    /// <summary>A name-based UUID (SHA-256, version 8 bits set) so the same step always has the same event id.</summary>
    public static Guid DeterministicId(string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
