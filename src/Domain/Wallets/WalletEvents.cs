namespace Steller.Domain.Wallets;

/// <summary>Events of one partner wallet (stream "wallet-{partnerId}-{currency}").</summary>
public interface IWalletEvent;

[EventName("wallet.opened.v1")]
public sealed record WalletOpened(string PartnerId, string Currency) : IWalletEvent;

/// <summary>Funds from outside: debit <see cref="CounterAccount"/> (platform funding), credit the wallet.</summary>
[EventName("wallet.deposited.v1")]
public sealed record Deposited(string TransferId, long Amount, string Reference, string CounterAccount) : IWalletEvent;

/// <summary>Funds paid out: debit the wallet, credit <see cref="CounterAccount"/> (platform funding).</summary>
[EventName("wallet.withdrawn.v1")]
public sealed record Withdrawn(string TransferId, long Amount, string Reference, string CounterAccount) : IWalletEvent;

/// <summary>First phase of a two-phase transfer: reserves funds (pending debit). No posting yet.</summary>
[EventName("wallet.hold-placed.v1")]
public sealed record HoldPlaced(string TransferId, long Amount, DateTimeOffset? ExpiresAt, string? OrderId) : IWalletEvent;

/// <summary>
/// Second phase: posts <see cref="Amount"/> (≤ held) from the wallet to the credit legs, and releases the rest
/// (<see cref="Released"/>) in the same event.
/// </summary>
[EventName("wallet.hold-captured.v1")]
public sealed record HoldCaptured(string TransferId, long Amount, long Released, IReadOnlyList<CaptureLeg> Legs) : IWalletEvent;

public sealed record CaptureLeg(string Account, long Amount);

/// <summary>Voids a hold: nothing is posted.</summary>
[EventName("wallet.hold-released.v1")]
public sealed record HoldReleased(string TransferId, long Amount, string Reason) : IWalletEvent;

[EventName("wallet.credit-limit-set.v1")]
public sealed record CreditLimitSet(long Limit) : IWalletEvent;

/// <summary>Money given back for an order (a refund): debit platform revenue, credit the wallet. Idempotent by transfer id.</summary>
[EventName("wallet.refunded.v1")]
public sealed record Refunded(string TransferId, long Amount, string OrderId, string CounterAccount) : IWalletEvent;

/// <summary>Agency parent → child, first half: debit this wallet, credit platform transit.</summary>
[EventName("wallet.transferred-out.v1")]
public sealed record TransferredOut(string TransferId, long Amount, string ToPartnerId, string CounterAccount) : IWalletEvent;

/// <summary>Second half: debit platform transit, credit this wallet.</summary>
[EventName("wallet.transferred-in.v1")]
public sealed record TransferredIn(string TransferId, long Amount, string FromPartnerId, string CounterAccount) : IWalletEvent;

/// <summary>
/// A transfer whose receiving half was refused (it would take the receiver past the bound) comes back: debit platform
/// transit, credit this (the sending) wallet. Transit nets to zero again.
/// </summary>
[EventName("wallet.transfer-returned.v1")]
public sealed record TransferReturned(string TransferId, long Amount, string ToPartnerId, string Reason, string CounterAccount) : IWalletEvent;

[EventName("wallet.frozen.v1")]
public sealed record WalletFrozen(string Reason) : IWalletEvent;

[EventName("wallet.unfrozen.v1")]
public sealed record WalletUnfrozen : IWalletEvent;

/// <summary>
/// The partner's low-balance threshold (minor units; null: none). A webhook <c>wallet.low_balance</c> goes out when an event
/// takes the available balance from at or above it to below it: once per crossing.
/// </summary>
[EventName("wallet.low-balance-threshold-set.v1")]
public sealed record LowBalanceThresholdSet(long? Threshold) : IWalletEvent;
