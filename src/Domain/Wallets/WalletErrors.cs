namespace Steller.Domain.Wallets;

public static class WalletErrors
{
    public static readonly DomainError NotOpen = new("wallet_not_found", "The partner has no wallet in this currency.");
    public static readonly DomainError AlreadyOpen = new("wallet_exists", "The wallet is already open.");
    public static readonly DomainError InsufficientFunds = new("insufficient_funds",
        "The wallet's available balance (with its credit limit) does not cover the amount.");
    public static readonly DomainError Frozen = new("wallet_frozen", "The wallet is frozen: no debits until it is unfrozen.");
    public static readonly DomainError IdempotencyConflict = new("idempotency_conflict",
        "This transfer id was already used with different content.");
    public static readonly DomainError HoldNotFound = new("hold_not_found", "No hold with this transfer id.");
    public static readonly DomainError TransferNotFound = new("transfer_not_found", "This wallet sent no transfer with this transfer id.");
    public static readonly DomainError HoldReleased = new("hold_released", "The hold was released; it cannot be captured.");
    public static readonly DomainError HoldCaptured = new("hold_captured", "The hold was captured; it cannot be released.");
    public static readonly DomainError CaptureExceedsHold = new("capture_exceeds_hold", "A capture cannot exceed the held amount.");
    public static readonly DomainError InvalidLegs = new("invalid_capture_legs",
        "Capture legs must credit revenue or vendor payable accounts of the hold's currency and add up to the captured amount; only "
        + "revenue may be negative (a sale below cost).");
    public static readonly DomainError InvalidAmount = new("invalid_amount", "Amounts are positive whole minor units.");
    public static readonly DomainError HoldExpiryInPast = new("invalid_expiry", "A hold cannot expire in the past.");
}
