namespace Steller.Domain.Partners;

public static class PartnerErrors
{
    public static readonly DomainError NotFound = new("partner_not_found", "No partner with this id.");
    public static readonly DomainError AlreadyOnboarded = new("partner_exists",
        "A partner with this id was already onboarded with different details.");
    public static readonly DomainError InvalidPartnerId = new("invalid_partner_id",
        "A partner id is 1 to 64 lowercase letters, digits or hyphens, starting with a letter or digit.");
    public static readonly DomainError InvalidName = new("invalid_name", "A partner name is 1 to 200 characters, not only spaces.");
    public static readonly DomainError InvalidEmail = new("invalid_email",
        "The contact email is not a plausible address (local@domain, at most 254 characters).");
    public static readonly DomainError InvalidParent = new("invalid_parent", "A partner cannot be its own parent.");
    public static readonly DomainError ParentNotFound = new("parent_not_found", "The parent partner does not exist.");
    public static readonly DomainError Suspended = new("partner_suspended", "The partner is suspended.");
    public static readonly DomainError ApiKeyNotFound = new("api_key_not_found", "The partner has no API key with this id.");
    public static readonly DomainError ApiKeyExists = new("api_key_exists", "An API key with this id already exists.");
    public static readonly DomainError TooManyApiKeys = new("too_many_api_keys",
        "The partner already has the most active API keys allowed; revoke one before creating another.");
    public static readonly DomainError CannotRevokeCurrentKey = new("cannot_revoke_current_key",
        "The key that signed this request cannot revoke itself; sign the revocation with another active key.");
    public static readonly DomainError InvalidApiKey = new("invalid_api_key",
        "An API key needs a key id, an encryption key id and a ciphertext.");
    public static readonly DomainError InvalidMargin = new("invalid_margin",
        "A margin is a basis ('cost-plus' or 'discount-share') and 0 to 10000 basis points.");
    public static readonly DomainError InvalidCidr = new("invalid_cidr",
        "Every allowlist entry must be an IPv4 or IPv6 CIDR such as 203.0.113.0/24 (at most 100 entries).");
    public static readonly DomainError InvalidRateLimit = new("invalid_rate_limit",
        "A rate limit is 1 to 100000 requests per second and a burst of 1 to 1000000 requests.");
    public static readonly DomainError InvalidReason = new("invalid_reason", "A reason is 1 to 500 characters.");
}
