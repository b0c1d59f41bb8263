using System.Globalization;

namespace Steller.Application.Pipeline;

/// <summary>What a text field is: an identifier or code (strictest), or free text written by a person.</summary>
public enum TextKind
{
    /// <summary>Ids, codes, references, names of things: no control characters, no lone surrogates, no invisible format
    /// characters (bidi overrides such as U+202E, zero-width characters).</summary>
    Identifier,

    /// <summary>Reasons, names, descriptions: no control characters and no lone surrogates; bidi marks are allowed (right-to-left
    /// text needs them), so free text must never be used as an identifier.</summary>
    FreeText,
}

/// <summary>The rule for one text field: its kind and its longest length in UTF-16 code units.</summary>
public sealed record TextRule(TextKind Kind, int MaxLength);

/// <summary>
/// The one rule for every text the API accepts (request bodies, route and query parameters): no NUL or other control
/// character (C0, DEL, C1), no lone surrogate, identifiers also no format characters (bidi overrides, zero-width), and a
/// length limit per field. The HTTP edge checks every string it binds against <see cref="For"/> (400 validation_failed
/// naming the field) and the OpenAPI document states the same limits, so the two cannot disagree.
/// </summary>
public static class Text
{
    public const int IdMax = 64, KeyMax = 100, ReferenceMax = 128, NameMax = 200, ReasonMax = 500, EmailMax = 254, CursorMax = 256;

    public static readonly TextRule Id = new(TextKind.Identifier, IdMax);
    public static readonly TextRule Key = new(TextKind.Identifier, KeyMax);
    public static readonly TextRule Reference = new(TextKind.Identifier, ReferenceMax);
    public static readonly TextRule Name = new(TextKind.FreeText, NameMax);
    public static readonly TextRule Reason = new(TextKind.FreeText, ReasonMax);

    /// <summary>A field that is not named below: free text of at most <see cref="ReasonMax"/> characters.</summary>
    public static readonly TextRule Default = Reason;

    /// <summary>
    /// The rule of each field by its JSON or parameter name (the last segment of a path such as lines[0].sku). One name means
    /// one thing across the whole API, so one table serves every endpoint.
    /// </summary>
    private static readonly Dictionary<string, TextRule> Fields = new(StringComparer.Ordinal)
    {
        // Partners, stock items, keys: a-z, 0-9, '-' and similar, at most 64.
        ["partnerId"] = Id, ["toPartnerId"] = Id, ["parentPartnerId"] = Id, ["sku"] = Id, ["location"] = Id, ["toLocation"] = Id,
        ["keyId"] = Id, ["vendor"] = Id, ["kind"] = new(TextKind.Identifier, 32), ["currency"] = new(TextKind.Identifier, 8), ["country"] = new(TextKind.Identifier, 8),
        ["basis"] = new(TextKind.Identifier, 32), ["type"] = new(TextKind.Identifier, 32), ["status"] = new(TextKind.Identifier, 32),
        // Idempotency ids chosen by the caller: at most 100.
        ["transferId"] = Key, ["receiptId"] = Key, ["adjustmentId"] = Key, ["reservationId"] = Key, ["refundId"] = Key,
        ["clientReference"] = Key,
        // References to things outside: orders, bank transfers, ledger accounts, voucher codes.
        ["orderId"] = Reference, ["reference"] = Reference, ["account"] = Reference, ["voucherCodes"] = new(TextKind.Identifier, 200),
        ["cidrs"] = new(TextKind.Identifier, 64), ["contactEmail"] = new(TextKind.Identifier, EmailMax),
        ["email"] = new(TextKind.Identifier, EmailMax), ["phone"] = new(TextKind.Identifier, 32),
        // Query parameters.
        ["after"] = new(TextKind.Identifier, CursorMax), ["from"] = new(TextKind.Identifier, 64), ["to"] = new(TextKind.Identifier, 64),
        ["asOf"] = new(TextKind.Identifier, 64), ["limit"] = new(TextKind.Identifier, 16), ["low"] = new(TextKind.Identifier, 8),
        // Webhooks.
        ["url"] = new(TextKind.Identifier, 2048), ["eventTypes"] = new(TextKind.Identifier, 64), ["endpointId"] = Id, ["messageId"] = Id,
        ["description"] = Reason,
        // Written by people.
        ["name"] = Name, ["brand"] = new(TextKind.FreeText, 100), ["reason"] = Reason,
    };

    /// <summary>The rule of a field by its name or path (lines[0].sku → sku); <see cref="Default"/> for a name not in the table.</summary>
    public static TextRule For(string field) => Fields.GetValueOrDefault(Leaf(field), Default);

    /// <summary>What is wrong with <paramref name="value"/> under <paramref name="rule"/>, or null when nothing is.</summary>
    public static string? Problem(string value, TextRule rule)
    {
        if (value.Length > rule.MaxLength) return $"at most {rule.MaxLength} characters (got {value.Length})";
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c)) return $"a lone surrogate (U+{(int)c:X4}) at position {i + 1} is not text";
            if (char.IsControl(c)) return $"no control characters (U+{(int)c:X4} at position {i + 1})";
            if (rule.Kind == TextKind.Identifier && IsInvisible(c))
                return $"no invisible or direction-changing characters in an identifier (U+{(int)c:X4} at position {i + 1})";
        }
        return null;
    }

    /// <summary>The message of the rule, for documents and problems: "at most 64 characters, no control characters".</summary>
    public static string Describe(TextRule rule) => rule.Kind == TextKind.Identifier
        ? $"at most {rule.MaxLength} characters; no control, bidi-override or other invisible format characters"
        : $"at most {rule.MaxLength} characters; no control characters";

    /// <summary>
    /// ECMA-262 patterns stating the character rule in the OpenAPI document (the length is its maxLength). Lone surrogates cannot be
    /// written in a pattern; they are refused all the same.
    /// </summary>
    public static string Pattern(TextKind kind) => kind == TextKind.Identifier
        ? @"^[^\u0000-\u001F\u007F-\u009F\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]*$"
        : @"^[^\u0000-\u001F\u007F-\u009F]*$";

    /// <summary>Unicode format characters (category Cf): bidi marks, overrides and isolates, zero-width characters, BOM.</summary>
    private static bool IsInvisible(char c) => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;

    private static string Leaf(string field)
    {
        var dot = field.LastIndexOf('.');
        var leaf = dot < 0 ? field : field[(dot + 1)..];
        var bracket = leaf.IndexOf('[');
        return bracket < 0 ? leaf : leaf[..bracket];
    }
}

public static class TextFieldErrors
{
    /// <summary>Checks one text field against <see cref="Text.For"/> of its name (nothing when it is null).</summary>
    public static FieldErrors Text(this FieldErrors errors, string? value, string field)
    {
        if (value is not null && Pipeline.Text.Problem(value, Pipeline.Text.For(field)) is { } problem) errors.Check(false, field, problem);
        return errors;
    }
}
