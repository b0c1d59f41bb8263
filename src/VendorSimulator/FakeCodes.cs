namespace Steller.VendorSimulator;

/// <summary>Realistic-looking but fake card secrets. They are returned to the caller and never logged.</summary>
public sealed class FakeCodes(int seed, int pinLength = 0)
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private readonly Random random = seed == 0 ? new Random() : new Random(seed);
    private readonly Lock gate = new();

    public string Serial() => Digits(12);
    public string CardCode()
    {
        lock (gate)
            return string.Join('-', Enumerable.Range(0, 4)
                .Select(_ => new string(Enumerable.Range(0, 4).Select(_ => Alphabet[random.Next(Alphabet.Length)]).ToArray())));
    }
    public string Pin() => Digits(pinLength > 0 ? pinLength : 4 + Next(5));
    public string TransferRef() => "TR" + Digits(10);

    private int Next(int max) { lock (gate) return random.Next(max); }
    private string Digits(int n) { lock (gate) return new string(Enumerable.Range(0, n).Select(_ => (char)('0' + random.Next(10)))
        .ToArray()); }
}
