using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Steller.Infrastructure.Configuration;

namespace Steller.Infrastructure.Crypto;

/// <summary>
/// Builds the key ring from configuration, validated at start (a bad value stops the process with one line naming the key):
/// <list type="bullet">
/// <item><c>Security:MasterKey</c>: base64 of 32 random bytes (<c>openssl rand -base64 32</c>), the key with id
///   <c>Security:MasterKeyId</c> (default <c>k1</c>).</item>
/// <item><c>Security:MasterKeys:&lt;id&gt;</c>: more keys, e.g. older ones kept to decrypt what they sealed.</item>
/// <item><c>Security:ActiveKeyId</c>: the key new secrets are sealed with (default: the MasterKey's id, or the only key).</item>
/// <item>None of these in Development: a key is generated once into <c>Security:MasterKeyFile</c>
///   (default <c>.steller/master.key</c>, git-ignored) and reused on later starts.</item>
/// </list>
/// </summary>
public static class KeyRingSettings
{
    public const string DefaultKeyFile = ".steller/master.key";
    public const string DevelopmentKeyId = "dev";

    public static AesGcmKeyRing Load(IConfiguration config, bool development, string? baseDirectory = null)
    {
        var security = config.GetSection("Security");
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);

        var masterKeyId = security["MasterKeyId"] is { Length: > 0 } mid ? mid : "k1";
        if (!IsValidKeyId(masterKeyId))
            throw Bad(security, "MasterKeyId", $"a key id of 1 to 32 letters, digits, '-' or '_', got '{masterKeyId}'");
        if (security["MasterKey"] is { Length: > 0 } master)
            keys[masterKeyId] = ParseKey(master, security, "MasterKey");

        foreach (var child in security.GetSection("MasterKeys").GetChildren())
        {
            if (!IsValidKeyId(child.Key)) throw Bad(security, $"MasterKeys:{child.Key}", "key ids of 1 to 32 letters, digits, '-' or '_'");
            if (keys.ContainsKey(child.Key))
                throw Bad(security, $"MasterKeys:{child.Key}", $"a key id not already used by Security:MasterKey");
            keys[child.Key] = ParseKey(child.Value, security, $"MasterKeys:{child.Key}");
        }

        var fileKey = security["MasterKeyFile"] is { Length: > 0 } f ? f : DefaultKeyFile;
        if (keys.Count == 0)
        {
            if (!development)
                throw new ConfigurationException($"Security:MasterKey (env {StellerSettings.EnvName(security, "MasterKey")}) is missing; "
                    + $"expected base64 of 32 random bytes, e.g. from 'openssl rand -base64 32' (Development generates one into "
                    + $"{DefaultKeyFile}).");
            var path = Path.GetFullPath(fileKey, baseDirectory ?? Directory.GetCurrentDirectory());
            keys[DevelopmentKeyId] = DevelopmentKey(path, security);
            return new AesGcmKeyRing(keys, DevelopmentKeyId);
        }

        var active = security["ActiveKeyId"] is { Length: > 0 } a ? a
            : security["MasterKey"] is { Length: > 0 } ? masterKeyId
            : keys.Count == 1 ? keys.Keys.Single()
            : throw new ConfigurationException($"Security:ActiveKeyId (env {StellerSettings.EnvName(security, "ActiveKeyId")}) is missing; "
                + $"expected one of {string.Join(", ", keys.Keys)} when several master keys are configured.");
        if (!keys.ContainsKey(active))
            throw Bad(security, "ActiveKeyId", $"one of the configured key ids ({string.Join(", ", keys.Keys)}), got '{active}'");
        return new AesGcmKeyRing(keys, active);
    }

    private static byte[] DevelopmentKey(string path, IConfigurationSection security)
    {
        if (File.Exists(path))
            return ParseKey(File.ReadAllText(path).Trim(), security, "MasterKeyFile", $" (the file {path})");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = RandomNumberGenerator.GetBytes(AesGcmKeyRing.KeySize);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(Convert.ToBase64String(key) + "\n");
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process generated it first: use theirs.
            return ParseKey(File.ReadAllText(path).Trim(), security, "MasterKeyFile", $" (the file {path})");
        }
        return key;
    }

    private static byte[] ParseKey(string? text, IConfigurationSection security, string key, string where = "")
    {
        byte[] bytes;
        try { bytes = Convert.FromBase64String(text?.Trim() ?? ""); }
        catch (FormatException) { throw Bad(security,
            key, $"base64 of 32 random bytes{where}, e.g. from 'openssl rand -base64 32'; the value is not base64"); }
        return bytes.Length == AesGcmKeyRing.KeySize ? bytes
            : throw Bad(security,
                key, $"base64 of 32 random bytes{where}, e.g. from 'openssl rand -base64 32'; it decodes to {bytes.Length} bytes");
    }

    private static bool IsValidKeyId(string id) =>
        id.Length is >= 1 and <= 32 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static ConfigurationException Bad(IConfigurationSection section, string key, string expected) =>
        new($"{section.Path}:{key} (env {StellerSettings.EnvName(section, key)}) is invalid; expected {expected}.");
}
