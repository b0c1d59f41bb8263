using System.Security.Cryptography;
using System.Text;
using FluentAssertions;
using Microsoft.Extensions.Configuration;
using NUnit.Framework;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Crypto;

namespace Steller.Infrastructure.Tests.Crypto;

public sealed class KeyRingTests
{
    private static readonly string KeyA = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string KeyB = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static AesGcmKeyRing Load(bool development = false, string? dir = null, params (string Key, string Value)[] values) =>
        KeyRingSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build(),
            development, dir);

    [Test]
    public void a_sealed_secret_opens_with_the_same_context_and_never_shows_the_plaintext()
    {
        var ring = Load(values: ("Security:MasterKey", KeyA));
        var sealedSecret = ring.Encrypt("sk_top-secret"u8, "pk_acme_1");
        sealedSecret.KeyId.Should().Be("k1");
        Encoding.UTF8.GetString(sealedSecret.Blob).Should().NotContain("top-secret");
        sealedSecret.Blob.Length.Should().Be(12 + "sk_top-secret".Length + 16);
        Encoding.UTF8.GetString(ring.Decrypt(sealedSecret.KeyId, sealedSecret.Blob, "pk_acme_1")).Should().Be("sk_top-secret");
    }

    [Test]
    public void a_tampered_blob_another_context_or_a_relabelled_key_id_does_not_open()
    {
        var ring = Load(values: [("Security:MasterKeys:old", KeyA), ("Security:MasterKeys:new", KeyB), ("Security:ActiveKeyId", "new")]);
        var s = ring.Encrypt("secret"u8, "ctx");
        var tampered = s.Blob.ToArray();
        tampered[14] ^= 1;
        FluentActions.Invoking(() => ring.Decrypt(s.KeyId, tampered, "ctx")).Should().Throw<CryptographicException>();
        FluentActions.Invoking(() => ring.Decrypt(s.KeyId, s.Blob, "other")).Should().Throw<CryptographicException>();
        FluentActions.Invoking(() => ring.Decrypt("old", s.Blob, "ctx")).Should().Throw<CryptographicException>();
        FluentActions.Invoking(() => ring.Decrypt("missing", s.Blob, "ctx")).Should().Throw<CryptographicException>();
    }

    [Test]
    public void rotation_seals_with_the_new_active_key_and_still_opens_what_the_old_one_sealed()
    {
        var before = Load(values: ("Security:MasterKeys:2025", KeyA));
        var old = before.Encrypt("legacy"u8, "c");
        var after = Load(values: [("Security:MasterKeys:2025", KeyA), ("Security:MasterKeys:2026", KeyB), ("Security:ActiveKeyId", "2026")]);
        after.Encrypt("fresh"u8, "c").KeyId.Should().Be("2026");
        Encoding.UTF8.GetString(after.Decrypt(old.KeyId, old.Blob, "c")).Should().Be("legacy");
    }

    [TestCase("not base64!", "Security:MasterKey (env STELLER__Security__MasterKey) is invalid")]
    [TestCase("c2hvcnQ=", "decodes to 5 bytes")]
    public void a_bad_master_key_stops_start_with_one_line_naming_the_key(string value, string expected) =>
        FluentActions.Invoking(() => Load(values: ("Security:MasterKey", value)))
            .Should().Throw<ConfigurationException>().Which.Message.Should().Contain(expected).And.NotContain("\n");

    [Test]
    public void outside_development_a_missing_master_key_stops_start() =>
        FluentActions.Invoking(() => Load()).Should().Throw<ConfigurationException>()
            .Which.Message.Should().StartWith("Security:MasterKey (env STELLER__Security__MasterKey) is missing");

    [Test]
    public void several_keys_need_an_active_key_id_that_exists()
    {
        FluentActions.Invoking(() => Load(values: [("Security:MasterKeys:a", KeyA), ("Security:MasterKeys:b", KeyB)]))
            .Should().Throw<ConfigurationException>().Which.Message.Should().Contain("Security:ActiveKeyId");
        FluentActions.Invoking(() => Load(values: [("Security:MasterKeys:a", KeyA), ("Security:ActiveKeyId", "zz")]))
            .Should().Throw<ConfigurationException>().Which.Message.Should().Contain("Security:ActiveKeyId").And.Contain("'zz'");
    }

    [Test]
    public void development_generates_a_private_key_file_once_and_reuses_it()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"steller-keys-{Guid.NewGuid():N}");
        try
        {
            var first = Load(development: true, dir: dir);
            var path = Path.Combine(dir, ".steller", "master.key");
            File.Exists(path).Should().BeTrue();
            if (!OperatingSystem.IsWindows()) File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var s = first.Encrypt("x"u8, "c");
            var second = Load(development: true, dir: dir);
            second.Decrypt(s.KeyId, s.Blob, "c").Should().Equal("x"u8.ToArray());

            var custom = Load(development: true, dir: dir, ("Security:MasterKeyFile", "elsewhere/k.key"));
            File.Exists(Path.Combine(dir, "elsewhere", "k.key")).Should().BeTrue();
            FluentActions.Invoking(() => custom.Decrypt(s.KeyId, s.Blob, "c")).Should().Throw<CryptographicException>();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void a_corrupt_development_key_file_is_named()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"steller-keys-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, ".steller"));
        File.WriteAllText(Path.Combine(dir, ".steller", "master.key"), "garbage");
        try
        {
            FluentActions.Invoking(() => Load(development: true, dir: dir)).Should().Throw<ConfigurationException>()
                .Which.Message.Should().Contain("Security:MasterKeyFile").And.Contain("master.key");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
