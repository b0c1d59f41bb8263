using Microsoft.Extensions.Logging.Abstractions;
using Steller.Application.Vendors;
using Steller.Infrastructure.Vendors;
using Steller.Testing;

namespace Steller.Vendors.Tests;

public sealed class VendorHealthTests : VendorTest
{
    private TestDatabase db = null!;

    [OneTimeSetUp]
    public async Task Database() => db = await TestDatabase.Create("vendorhealth");

    [OneTimeTearDown]
    public async Task DropDatabase() => await db.DisposeAsync();

    [Test]
    public async Task every_vendor_call_is_written_to_postgres_and_read_vendor_health_aggregates_them()
    {
        var observer = new PostgresVendorCallObserver(db.DataSource, NullLogger<PostgresVendorCallObserver>.Instance);
        await observer.StartAsync(CancellationToken.None);
        await using var steller = new Adapters(Sim, observer);
        await Sim.Script(new object[]
        {
            new { vendor = VendorKinds.GiftCard, operation = "checkout", action = "status", status = 503 },
            new { vendor = VendorKinds.GiftCard, operation = "checkout", action = "status", status = 429, retryAfterSeconds = 1 },
        });

        await steller.GiftCard.ReadCatalog().ToListAsync();
        await steller.GiftCard.Submit(GiftCard());
        await steller.TopUp.Submit(TopUp(quantity: 2));
        await observer.Flush(TimeSpan.FromSeconds(10));

        var simulated = (await Sim.Requests(VendorKinds.GiftCard)).Count;
        simulated.Should().Be(5, "one catalog page, three checkout attempts and, after the 503, one status read (the vendor has no order: submit again)");
        (await db.Scalar<long>("select count(*) from ops.vendor_calls where vendor = 'giftcard'")).Should().Be(simulated);
        (await db.Scalar<long>("select count(*) from ops.vendor_calls where vendor = 'giftcard' and operation = 'checkout' and status = 503 and was_error")).Should().Be(1);
        (await db.Scalar<long>("select count(*) from ops.vendor_calls where vendor = 'topup' and operation = 'transfer' and status = 200")).Should().Be(2);

        await using var cmd = db.DataSource.CreateCommand(
            "select vendor, calls, errors, rate_limited, p50_ms, p95_ms, p99_ms, last_catalog_sync_at, last_catalog_products from read.vendor_health order by vendor");
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<(string Vendor, long Calls, long Errors, long Limited, double P50, double P95, double P99, DateTime? Sync, int? Products)>();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDouble(4), reader.GetDouble(5),
                reader.GetDouble(6), reader.IsDBNull(7) ? null : reader.GetDateTime(7), reader.IsDBNull(8) ? null : reader.GetInt32(8)));

        rows.Select(r => r.Vendor).Should().Equal("giftcard", "topup");
        var gift = rows[0];
        (gift.Calls, gift.Errors, gift.Limited).Should().Be((5L, 1L, 1L));
        gift.P50.Should().BeGreaterThan(0);
        gift.P95.Should().BeGreaterThanOrEqualTo(gift.P50);
        gift.P99.Should().BeGreaterThanOrEqualTo(gift.P95);
        gift.Products.Should().Be(14);
        gift.Sync.Should().BeCloseTo(DateTime.UtcNow, TimeSpan.FromMinutes(1));
        var topUp = rows[1];
        (topUp.Calls, topUp.Errors, topUp.Limited, topUp.Products).Should().Be((2L, 0L, 0L, (int?)null));

        await observer.StopAsync(CancellationToken.None);
        observer.Dropped.Should().Be(0);
    }

    [Test]
    public async Task calls_older_than_an_hour_leave_read_vendor_health()
    {
        await using (var cmd = db.DataSource.CreateCommand("""
            insert into ops.vendor_calls (at, vendor, operation, status, latency_ms, was_429, was_error)
            values (now() - interval '2 hours', 'oldvendor', 'checkout', 200, 10, false, false)
            """))
            await cmd.ExecuteNonQueryAsync();

        (await db.Scalar<long>("select count(*) from read.vendor_health where vendor = 'oldvendor'")).Should().Be(0);
    }

    [Test]
    public async Task calls_observed_within_the_linger_are_written_in_one_insert_and_stopping_writes_what_is_left_at_once()
    {
        var observer = new PostgresVendorCallObserver(db.DataSource, NullLogger<PostgresVendorCallObserver>.Instance);
        await observer.StartAsync(CancellationToken.None);
        // 20 calls a few milliseconds apart, as a burst of orders makes them.
        for (var i = 0; i < 20; i++)
        {
            observer.Called(new VendorCallObservation("lingervendor", "checkout", 200, 1, false, false, DateTimeOffset.UtcNow));
            await Task.Delay(5);
        }
        await observer.Flush(TimeSpan.FromSeconds(10));
        (await db.Scalar<long>("select count(*) from ops.vendor_calls where vendor = 'lingervendor'")).Should().Be(20);
        (await db.Scalar<long>("select count(distinct xmin::text) from ops.vendor_calls where vendor = 'lingervendor'")).Should()
            .BeLessThanOrEqualTo(2, "the calls of a quarter second share one insert (at most two when the burst straddles one)");

        await observer.StopAsync(CancellationToken.None);
        await observer.DisposeAsync();

        // One lingering a minute: stopping writes what it holds at once.
        var slow = new PostgresVendorCallObserver(db.DataSource, NullLogger<PostgresVendorCallObserver>.Instance, linger: TimeSpan.FromMinutes(1));
        await slow.StartAsync(CancellationToken.None);
        slow.Called(new VendorCallObservation("lingervendor", "checkout", 200, 1, false, false, DateTimeOffset.UtcNow));
        await Task.Delay(100);
        var stop = System.Diagnostics.Stopwatch.StartNew();
        await slow.StopAsync(CancellationToken.None);
        stop.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(4), "stopping does not wait out the linger (nor the 5 s shutdown cap)");
        (await db.Scalar<long>("select count(*) from ops.vendor_calls where vendor = 'lingervendor'")).Should().Be(21);
        await slow.DisposeAsync();
        await using var clean = db.DataSource.CreateCommand("delete from ops.vendor_calls where vendor = 'lingervendor'"); // read.vendor_health is shared
        await clean.ExecuteNonQueryAsync();
    }

    [Test]
    public async Task a_full_buffer_drops_and_counts_observations_instead_of_blocking_the_vendor_call()
    {
        // Never started: nothing drains the buffer of 10.
        var observer = new PostgresVendorCallObserver(db.DataSource, NullLogger<PostgresVendorCallObserver>.Instance, capacity: 10);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (var i = 0; i < 100; i++)
            observer.Called(new VendorCallObservation("giftcard", "order", 200, 1, false, false, DateTimeOffset.UtcNow));

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
        observer.Dropped.Should().Be(90);
        await observer.DisposeAsync();
    }

    [Test]
    public async Task an_unreachable_database_never_fails_a_vendor_call()
    {
        await using var nowhere = Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Database=x;Timeout=1");
        var observer = new PostgresVendorCallObserver(nowhere, NullLogger<PostgresVendorCallObserver>.Instance);
        await observer.StartAsync(CancellationToken.None);
        await using var steller = new Adapters(Sim, observer);

        var result = await steller.TopUp.Submit(TopUp());
        await observer.Flush(TimeSpan.FromSeconds(10));

        result.Status.Should().Be(VendorPurchaseStatus.Succeeded);
        observer.Dropped.Should().Be(1);
        await observer.DisposeAsync();
    }
}
