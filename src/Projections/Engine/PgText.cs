using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Steller.Application.Serialization;

namespace Steller.Projections.Engine;

/// <summary>
/// The one place that makes text safe for PostgreSQL before a projection binds it. Events keep whatever the domain
/// accepted; read models get text that PostgreSQL always takes:
/// <list type="bullet">
/// <item>NUL (U+0000), which a PostgreSQL text cannot hold (22021), becomes U+FFFD;</item>
/// <item>a lone UTF-16 surrogate, which cannot be encoded as UTF-8, becomes U+FFFD;</item>
/// <item>text longer than <see cref="MaxLength"/> characters keeps its first part and ends in "…" and 16 hex digits of
/// the SHA-256 of the whole, so two long values stay distinct as keys and every value fits a btree index
/// (PostgreSQL refuses index entries over about 2.7 KB).</item>
/// </list>
/// Everything else (RTL overrides, other control characters, any script) is stored as it is: read models show what
/// happened, the edge decides what may happen. <see cref="Clean"/> is idempotent, so cleaning twice (on reading the
/// event, again on binding) changes nothing. Used by <see cref="ProjectionEvents"/> (every string of an event as a
/// projection reads it), <see cref="ColumnArrays{TRow}"/> and <see cref="ProjectionContext"/> (every string
/// parameter).
/// </summary>
public static class PgText
{
    /// <summary>Longest text a read-model column holds (characters); three such keys still fit one index entry.</summary>
    public const int MaxLength = 400;

    private const int HashDigits = 16;

    /// <summary>True when <paramref name="value"/> is already safe, so the common case allocates nothing.</summary>
    public static bool IsClean(string value)
    {
        if (value.Length > MaxLength) return false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0') return false;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])) return false;
                i++;
            }
            else if (char.IsLowSurrogate(c)) return false;
        }
        return true;
    }

    /// <summary>The text PostgreSQL will take for <paramref name="value"/> (null stays null).</summary>
    public static string? Clean(string? value)
    {
        if (value is null || IsClean(value)) return value;
        var text = new StringBuilder(Math.Min(value.Length, MaxLength + 1));
        var cleaned = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0') cleaned.Append('\uFFFD');
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                cleaned.Append(c).Append(value[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c)) cleaned.Append('\uFFFD');
            else cleaned.Append(c);
        }
        if (cleaned.Length <= MaxLength) return cleaned.ToString();
        var whole = cleaned.ToString();
        var keep = MaxLength - 1 - HashDigits;
        if (char.IsHighSurrogate(whole[keep - 1])) keep--; // never split a pair
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(whole)))[..HashDigits];
        return text.Append(whole, 0, keep).Append('…').Append(hash).ToString();
    }

    /// <summary>
    /// Query parameters with every string (and every string in an array) cleaned: an anonymous object, a
    /// <see cref="DynamicParameters"/> (passed through: <see cref="ColumnArrays{TRow}"/> cleans its own) or null.
    /// </summary>
    public static object? Parameters(object? parameters)
    {
        if (parameters is null or DynamicParameters) return parameters;
        var cleaned = new DynamicParameters();
        foreach (var property in parameters.GetType().GetProperties())
            cleaned.Add(property.Name, Value(property.GetValue(parameters)));
        return cleaned;
    }

    /// <summary>One parameter value: strings and string arrays cleaned, anything else as it is.</summary>
    public static object? Value(object? value) => value switch
    {
        string s => Clean(s),
        string?[] many => many.Select(Clean).ToArray(),
        _ => value,
    };

    /// <summary>
    /// Reads every JSON string through <see cref="Clean"/>, including strings whose escapes hold a lone surrogate
    /// (which System.Text.Json refuses to read), and writes strings cleaned (facts a projection keeps as jsonb).
    /// </summary>
    public sealed class StringConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String) return reader.GetString(); // throws the usual error
            try { return Clean(reader.GetString()); }
            catch (InvalidOperationException) { return Clean(Unescape(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan)); }
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(Clean(value));

        /// <summary>A JSON string's raw bytes to UTF-16, keeping lone surrogates (cleaned by the caller).</summary>
        private static string Unescape(ReadOnlySpan<byte> raw)
        {
            var text = new StringBuilder(raw.Length);
            var decoded = Encoding.UTF8.GetString(raw);
            for (var i = 0; i < decoded.Length; i++)
            {
                if (decoded[i] != '\\' || i + 1 >= decoded.Length) { text.Append(decoded[i]); continue; }
                var e = decoded[++i];
                switch (e)
                {
                    case 'n': text.Append('\n'); break;
                    case 't': text.Append('\t'); break;
                    case 'r': text.Append('\r'); break;
                    case 'b': text.Append('\b'); break;
                    case 'f': text.Append('\f'); break;
                    case 'u' when i + 4 < decoded.Length
                        && ushort.TryParse(decoded.AsSpan(i + 1, 4), System.Globalization.NumberStyles.HexNumber, null, out var code):
                        text.Append((char)code);
                        i += 4;
                        break;
                    default: text.Append(e); break; // \" \\ \/
                }
            }
            return text.ToString();
        }
    }

    /// <summary>The event JSON options with <see cref="StringConverter"/>.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(EventTypeRegistry.JsonOptions) { Converters = { new StringConverter() } };
}

/// <summary>How projections read events: the domain's registry, with every string cleaned by <see cref="PgText"/>.</summary>
public static class ProjectionEvents
{
    public static EventTypeRegistry Registry { get; } = EventTypeRegistry.ForDomain(PgText.JsonOptions);
}
