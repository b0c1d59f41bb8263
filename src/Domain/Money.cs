namespace Steller.Domain;

/// <summary>An ISO 4217 currency code. Amounts are always <c>long</c> minor units beside it (no floating point anywhere).</summary>
public readonly record struct Currency
{
    public string Code { get; }

    private Currency(string code) => Code = code;

    public static bool TryParse(string? text, out Currency currency)
    {
        currency = default;
        if (text is not { Length: 3 } || !text.All(char.IsAsciiLetterUpper)) return false;
        currency = new Currency(text);
        return true;
    }

    public static Currency Parse(string text) =>
        TryParse(text, out var c) ? c : throw new ArgumentException($"'{text}' is not an ISO 4217 currency code (three capital letters).");

    public override string ToString() => Code;
}
