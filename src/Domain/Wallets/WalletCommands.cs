namespace Steller.Domain.Wallets;

/// <summary>What can be asked of a wallet. Time arrives on the command; the domain reads no clock.</summary>
public interface IWalletCommand;

public sealed record OpenWallet(string PartnerId, string Currency) : IWalletCommand;
public sealed record Deposit(string TransferId, long Amount, string Reference) : IWalletCommand;
public sealed record Withdraw(string TransferId, long Amount, string Reference) : IWalletCommand;
public sealed record PlaceHold(string TransferId, long Amount, DateTimeOffset? ExpiresAt, string? OrderId, DateTimeOffset Now)
    : IWalletCommand;
/// <summary>
/// Captures <paramref name="Amount"/> of a hold; null legs credit everything to platform revenue. <paramref name="Vendors"/>: the
/// vendors whose payable accounts the legs may credit (the hold's order's vendors); null when the legs were built from the
/// order itself (settlement).
/// </summary>
public sealed record CaptureHold(string TransferId, long Amount, IReadOnlyList<CaptureLeg>? Legs,
    IReadOnlyCollection<string>? Vendors = null) : IWalletCommand;
public sealed record ReleaseHold(string TransferId, string Reason) : IWalletCommand;
/// <summary>
/// Credits a refund for <paramref name="OrderId"/>, paid out of platform revenue (also into a frozen wallet: it is a credit).
/// </summary>
public sealed record CreditRefund(string TransferId, long Amount, string OrderId) : IWalletCommand;
public sealed record SetCreditLimit(long Limit) : IWalletCommand;
public sealed record TransferOut(string TransferId, long Amount, string ToPartnerId) : IWalletCommand;
public sealed record TransferIn(string TransferId, long Amount, string FromPartnerId) : IWalletCommand;
/// <summary>Gives a sent transfer back to this (the sending) wallet when its receiving half was refused.</summary>
public sealed record ReturnTransfer(string TransferId, string Reason) : IWalletCommand;
public sealed record FreezeWallet(string Reason) : IWalletCommand;
public sealed record UnfreezeWallet : IWalletCommand;
/// <summary>Sets (or, with null, removes) the low-balance threshold; a threshold is not a limit: nothing is refused by it.</summary>
public sealed record SetLowBalanceThreshold(long? Threshold) : IWalletCommand;
