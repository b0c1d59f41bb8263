using System.Security.Cryptography;

namespace Steller.Application.Partners;

public static class RandomIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary><paramref name="length"/> characters of lowercase RFC 4648 base32, 5 random bits each.</summary>
    public static string Base32(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++) chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        return new string(chars);
    }
}
