using MediatR;
using Steller.Application.EventStore;
using Steller.Projections.Wallets;

namespace Steller.Projections.Chain.VerifyingChain;

/// <summary>`steller ledger verify`: recompute the hash chain from the log (from <see cref="From"/>, trusting the link before
/// it) and compare it with es.chain and, when given, with a hash written down earlier.</summary>
public sealed record VerifyLedgerChainRequest(LogPosition? From = null, ExpectedLink? Expected = null, IProgress<ReplayProgress>? Progress = null)
    : IRequest<ChainVerification>;

public sealed class VerifyLedgerChainHandler(ChainVerifier verifier) : IRequestHandler<VerifyLedgerChainRequest, ChainVerification>
{
    public Task<ChainVerification> Handle(VerifyLedgerChainRequest request, CancellationToken ct) =>
        verifier.Verify(request.From, request.Expected, request.Progress, ct);
}
