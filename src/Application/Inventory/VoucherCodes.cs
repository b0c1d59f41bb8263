using System.Text;
using Steller.Application.Crypto;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory;

/// <summary>
/// Seals voucher codes at the edge, before anything else sees them (each under its own voucher id as key-ring
/// context, so a blob only opens as the voucher it was sealed for), and opens them for the owning partner's order
/// detail — the one place a code is ever shown.
/// </summary>
public sealed class VoucherCodes(IKeyRing keyRing)
{
    /// <summary>One sealed voucher per code, in the given order; ids are <see cref="Stock.VoucherId"/> of the receipt.</summary>
    public IReadOnlyList<SealedVoucher> Seal(string sku, string location, string receiptId, IReadOnlyList<string> codes) =>
        codes.Select((code, i) =>
        {
            var id = Stock.VoucherId(location, receiptId, i + 1);
            var sealedCode = keyRing.Encrypt(Encoding.UTF8.GetBytes(code), Stock.VoucherContext(sku, id));
            return new SealedVoucher(id, sealedCode.KeyId, sealedCode.BlobBase64);
        }).ToList();

    public string Open(string sku, SealedVoucher voucher) =>
        Encoding.UTF8.GetString(keyRing.Decrypt(voucher.KeyId, Convert.FromBase64String(voucher.Ciphertext),
            Stock.VoucherContext(sku, voucher.VoucherId)));
}
