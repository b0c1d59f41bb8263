using Npgsql;
using NpgsqlTypes;

namespace Steller.Infrastructure.Vendors;

/// <summary>One order line as an item of a vendor checkout.</summary>
public sealed record CheckoutItem(string LineRequestId, string VendorProductId, int Quantity, long FaceValue, string Currency);

/// <summary>A vendor checkout carrying several order lines, under its own request id; items in the order they were sent.</summary>
public sealed record CheckoutBatch(string RequestId, IReadOnlyList<CheckoutItem> Items)
{
    public int IndexOf(string lineRequestId)
    {
        for (var i = 0; i < Items.Count; i++)
            if (Items[i].LineRequestId == lineRequestId) return i;
        return -1;
    }
}

/// <summary>
/// Which line went out in which batch (<c>ops.vendor_checkout_items</c>), written before the checkout is sent: a line
/// that may have been sent is looked up here first, so it is followed in its batch, or the same batch is sent again under
/// the same request id (which the vendor refuses to place twice), and never bought a second time on its own.
/// </summary>
public sealed class CheckoutBatchBook(NpgsqlDataSource db)
{
    /// <summary>Records the batch in one statement; a line already recorded in another batch fails it (unique key).</summary>
    public async Task Record(string vendor, CheckoutBatch batch, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            insert into ops.vendor_checkout_items
                (line_request_id, vendor, batch_request_id, item, vendor_product_id, quantity, face_value, currency)
            select line, $2, $3, item - 1, product, quantity, face, currency
              from unnest($1::text[], $4::text[], $5::int[], $6::bigint[], $7::text[]) with ordinality
                   as i(line, product, quantity, face, currency, item)
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Items.Select(i => i.LineRequestId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = vendor });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.RequestId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Items.Select(i => i.VendorProductId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Items.Select(i => i.Quantity).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Items.Select(i => i.FaceValue).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Items.Select(i => i.Currency).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The batch <paramref name="lineRequestId"/> went out in, whole; null when it never went out in one.</summary>
    public async Task<CheckoutBatch?> Find(string lineRequestId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select b.batch_request_id, b.line_request_id, b.vendor_product_id, b.quantity, b.face_value, b.currency
              from ops.vendor_checkout_items l
              join ops.vendor_checkout_items b on b.batch_request_id = l.batch_request_id
             where l.line_request_id = $1
             order by b.item
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = lineRequestId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        string? batchId = null;
        var items = new List<CheckoutItem>();
        while (await reader.ReadAsync(ct))
        {
            batchId = reader.GetString(0);
            items.Add(new CheckoutItem(reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4), reader.GetString(5)));
        }
        return batchId is null ? null : new CheckoutBatch(batchId, items);
    }

    /// <summary>Forgets a batch the vendor refused outright (it created nothing), so its lines can go out on their own.</summary>
    public async Task Forget(string batchRequestId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("delete from ops.vendor_checkout_items where batch_request_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = batchRequestId });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
