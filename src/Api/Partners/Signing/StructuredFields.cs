using System.Globalization;
using System.Text;

namespace Steller.Api.Partners.Signing;

/// <summary>An RFC 8941 token (unquoted), to tell it apart from a string.</summary>
public sealed record SfToken(string Value);

/// <summary>An RFC 8941 item: a bare value (long, decimal, string, <see cref="SfToken"/>, byte[], bool) and its parameters.</summary>
public sealed record SfItem(object Value, IReadOnlyList<KeyValuePair<string, object>> Parameters);

/// <summary>An RFC 8941 inner list with its parameters (how Signature-Input carries covered components and signature parameters).</summary>
public sealed record SfInnerList(IReadOnlyList<SfItem> Items, IReadOnlyList<KeyValuePair<string, object>> Parameters);

/// <summary>
/// The parts of RFC 8941 Structured Field Values that HTTP Message Signatures need: parsing dictionaries
/// (Signature-Input, Signature, Content-Digest) and serialising inner lists (the "@signature-params" line).
/// </summary>
public static class StructuredFields
{
    /// <summary>
    /// Parses a dictionary; members map to <see cref="SfItem"/> or <see cref="SfInnerList"/>. Throws <see cref="FormatException"/>.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, object>> ParseDictionary(string text)
    {
        var p = new Parser(text);
        var result = new List<KeyValuePair<string, object>>();
        p.SkipSpaces();
        if (p.End) return result;
        while (true)
        {
            var key = p.Key();
            object member;
            if (p.TryConsume('=')) member = p.ItemOrInnerList();
            else member = new SfItem(true, p.Parameters());
            var existing = result.FindIndex(m => m.Key == key);
            if (existing >= 0) result[existing] = new(key, member); // the last one wins (RFC 8941 §4.2.2)
            else result.Add(new(key, member));
            p.SkipOws();
            if (p.End) return result;
            if (!p.TryConsume(',')) throw new FormatException($"Expected ',' at {p.Position}.");
            p.SkipOws();
            if (p.End) throw new FormatException("A dictionary cannot end with ','.");
        }
    }

    public static string SerializeInnerList(SfInnerList list)
    {
        var sb = new StringBuilder("(");
        for (var i = 0; i < list.Items.Count; i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(SerializeBare(list.Items[i].Value)).Append(SerializeParameters(list.Items[i].Parameters));
        }
        return sb.Append(')').Append(SerializeParameters(list.Parameters)).ToString();
    }

    private static string SerializeParameters(IReadOnlyList<KeyValuePair<string, object>> parameters)
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in parameters)
        {
            sb.Append(';').Append(key);
            if (value is not true) sb.Append('=').Append(SerializeBare(value));
        }
        return sb.ToString();
    }

    public static string SerializeBare(object value) => value switch
    {
        long l => l.ToString(CultureInfo.InvariantCulture),
        decimal d => SerializeDecimal(d),
        string s => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
        SfToken t => t.Value,
        byte[] b => ":" + Convert.ToBase64String(b) + ":",
        bool b => b ? "?1" : "?0",
        _ => throw new ArgumentException($"Not a structured field value: {value.GetType().Name}"),
    };

    private static string SerializeDecimal(decimal d)
    {
        var text = Math.Round(d, 3, MidpointRounding.ToEven).ToString("0.0##", CultureInfo.InvariantCulture);
        return text;
    }

    private sealed class Parser(string text)
    {
        private int pos;
        public int Position => pos;
        public bool End => pos >= text.Length;
        private char Peek => text[pos];

        public void SkipSpaces() { while (!End && Peek == ' ') pos++; }
        public void SkipOws() { while (!End && Peek is ' ' or '\t') pos++; }

        public bool TryConsume(char c)
        {
            if (End || Peek != c) return false;
            pos++;
            return true;
        }

        public string Key()
        {
            if (End || !(Peek is (>= 'a' and <= 'z') or '*')) throw new FormatException($"Expected a key at {pos}.");
            var start = pos++;
            while (!End && Peek is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '.' or '*') pos++;
            return text[start..pos];
        }

        public object ItemOrInnerList() => !End && Peek == '(' ? InnerList() : Item();

        private SfInnerList InnerList()
        {
            pos++; // (
            var items = new List<SfItem>();
            while (true)
            {
                SkipSpaces();
                if (End) throw new FormatException("An inner list is not closed.");
                if (TryConsume(')')) return new SfInnerList(items, Parameters());
                items.Add(Item());
                if (!End && Peek is not (' ' or ')')) throw new FormatException($"Expected ' ' or ')' at {pos}.");
            }
        }

        private SfItem Item() => new(Bare(), Parameters());

        public IReadOnlyList<KeyValuePair<string, object>> Parameters()
        {
            var list = new List<KeyValuePair<string, object>>();
            while (TryConsume(';'))
            {
                SkipSpaces();
                var key = Key();
                object value = TryConsume('=') ? Bare() : true;
                var existing = list.FindIndex(p => p.Key == key);
                if (existing >= 0) list[existing] = new(key, value); else list.Add(new(key, value));
            }
            return list;
        }

        private object Bare()
        {
            if (End) throw new FormatException("Expected a value at the end.");
            var c = Peek;
            if (c == '-' || char.IsAsciiDigit(c)) return Number();
            if (c == '"') return String();
            if (c == ':') return Bytes();
            if (c == '?') return Boolean();
            if (char.IsAsciiLetter(c) || c == '*') return Token();
            throw new FormatException($"Unexpected '{c}' at {pos}.");
        }

        private object Number()
        {
            var start = pos;
            if (Peek == '-') pos++;
            while (!End && (char.IsAsciiDigit(Peek) || Peek == '.')) pos++;
            var s = text[start..pos];
            if (s.Contains('.'))
            {
                var parts = s.TrimStart('-').Split('.');
                if (parts.Length != 2 || parts[0].Length is 0 or > 12 || parts[1].Length is 0 or > 3 || !decimal.TryParse(s,
                    NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d))
                    throw new FormatException($"Bad decimal '{s}'.");
                return d;
            }
            if (s.TrimStart('-').Length is 0 or > 15
                || !long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                throw new FormatException($"Bad integer '{s}'.");
            return l;
        }

        private string String()
        {
            pos++; // "
            var sb = new StringBuilder();
            while (!End)
            {
                var c = text[pos++];
                if (c == '\\')
                {
                    if (End || Peek is not ('"' or '\\')) throw new FormatException("Bad escape in a string.");
                    sb.Append(text[pos++]);
                }
                else if (c == '"') return sb.ToString();
                else if (c < 0x20 || c > 0x7E) throw new FormatException("Strings are printable ASCII.");
                else sb.Append(c);
            }
            throw new FormatException("A string is not closed.");
        }

        private SfToken Token()
        {
            var start = pos++;
            while (!End && (char.IsAsciiLetterOrDigit(Peek) || "!#$%&'*+-.^_`|~:/".Contains(Peek))) pos++;
            return new SfToken(text[start..pos]);
        }

        private byte[] Bytes()
        {
            pos++; // :
            var end = text.IndexOf(':', pos);
            if (end < 0) throw new FormatException("A byte sequence is not closed.");
            var b64 = text[pos..end];
            pos = end + 1;
            try { return Convert.FromBase64String(b64); }
            catch (FormatException) { throw new FormatException("A byte sequence is not base64."); }
        }

        private bool Boolean()
        {
            pos++; // ?
            if (End || Peek is not ('0' or '1')) throw new FormatException("Bad boolean.");
            return text[pos++] == '1';
        }
    }
}
