using FluentAssertions;
using NUnit.Framework;
using Steller.Infrastructure.EventStoreDb;

namespace Steller.EventStoreDb.Tests;

public sealed class ConnectionStringTests
{
    [Test]
    public void an_insecure_single_node()
    {
        var c = EventStoreDbConnectionString.Parse("esdb://127.0.0.1:2113?tls=false");
        c.Host.Should().Be("127.0.0.1");
        c.Port.Should().Be(2113);
        c.Tls.Should().BeFalse();
        c.HasCredentials.Should().BeFalse();
        c.Address.Should().Be(new Uri("http://127.0.0.1:2113"));
    }

    [Test]
    public void tls_with_basic_credentials()
    {
        var c = EventStoreDbConnectionString.Parse("esdb://admin:chan%40ge:it@db.example.internal:2113?tls=true&tlsVerifyCert=false");
        c.Tls.Should().BeTrue();
        c.TlsVerifyCert.Should().BeFalse();
        c.Username.Should().Be("admin");
        c.Password.Should().Be("chan@ge:it", "the password is percent-decoded and may hold a colon");
        c.Address.Should().Be(new Uri("https://db.example.internal:2113"));
        c.ToString().Should().NotContain("chan").And.Contain("admin:***@");
    }

    [Test]
    public void defaults_are_tls_on_and_port_2113_as_in_the_official_clients()
    {
        var c = EventStoreDbConnectionString.Parse("esdb://localhost");
        c.Tls.Should().BeTrue();
        c.TlsVerifyCert.Should().BeTrue();
        c.Port.Should().Be(2113);
    }

    [Test]
    public void options_are_case_insensitive_and_a_deadline_is_read_in_milliseconds()
    {
        var c = EventStoreDbConnectionString.Parse("esdb://[::1]:2114/?TLS=False&defaultDeadline=2500&connectionName=steller-api&nodePreference=leader");
        c.Host.Should().Be("::1");
        c.Port.Should().Be(2114);
        c.Tls.Should().BeFalse();
        c.DefaultDeadline.Should().Be(TimeSpan.FromMilliseconds(2500));
        c.ConnectionName.Should().Be("steller-api");
        c.Address.Should().Be(new Uri("http://[::1]:2114"));
    }

    [TestCase("", "empty")]
    [TestCase("   ", "empty")]
    [TestCase("127.0.0.1:2113", "esdb://")]
    [TestCase("http://127.0.0.1:2113", "expected esdb://")]
    [TestCase("esdb+discover://a:2113,b:2113", "takes one host")]
    [TestCase("esdb://a:2113,,c:2113", "host is missing")]
    [TestCase("esdb://a:2113,b:x", "port 'x'")]
    [TestCase("esdb://a:2113?nodePreference=nearest", "nodePreference must be")]
    [TestCase("esdb://a:2113?gossipTimeout=0", "gossipTimeout must be")]
    [TestCase("esdb://a:2113?maxDiscoverAttempts=none", "maxDiscoverAttempts must be")]
    [TestCase("esdb://:2113", "host is missing")]
    [TestCase("esdb://127.0.0.1:99999", "port")]
    [TestCase("esdb://127.0.0.1:abc", "port")]
    [TestCase("esdb://127.0.0.1:2113?tls=maybe", "tls must be true or false")]
    [TestCase("esdb://127.0.0.1:2113?tlz=false", "unknown option 'tlz'")]
    [TestCase("esdb://127.0.0.1:2113?defaultDeadline=-5", "defaultDeadline")]
    [TestCase("esdb://admin@127.0.0.1:2113", "user:password@")]
    [TestCase("esdb://127.0.0.1:2113/streams", "path")]
    [TestCase("esdb://bad host:2113", "not a valid host")]
    public void bad_strings_are_refused_with_the_reason(string text, string reason)
    {
        EventStoreDbConnectionString.TryParse(text, out _, out var error).Should().BeFalse();
        error.Should().Contain(reason);
        var act = () => EventStoreDbConnectionString.Parse(text);
        act.Should().Throw<FormatException>().WithMessage($"*{reason}*");
    }

    [Test]
    public void a_refused_string_does_not_echo_its_password()
    {
        EventStoreDbConnectionString.TryParse("tcp://admin:secret@host:1113", out _, out var error).Should().BeFalse();
        error.Should().NotContain("secret");
    }

    [Test]
    public void several_hosts_are_the_gossip_seeds_of_a_cluster()
    {
        var c = EventStoreDbConnectionString.Parse(
            "esdb://admin:changeit@a.example:2113,b.example,[::1]:2115?tls=false&nodePreference=Follower&gossipTimeout=2000&discoveryInterval=50&maxDiscoverAttempts=3");
        c.IsCluster.Should().BeTrue();
        c.Discover.Should().BeFalse();
        c.Hosts.Should().Equal(new EventStoreDbEndpoint("a.example", 2113), new EventStoreDbEndpoint("b.example", 2113),
            new EventStoreDbEndpoint("::1", 2115));
        c.Host.Should().Be("a.example");
        c.NodePreference.Should().Be(NodePreference.Follower);
        c.GossipTimeout.Should().Be(TimeSpan.FromSeconds(2));
        c.DiscoveryInterval.Should().Be(TimeSpan.FromMilliseconds(50));
        c.MaxDiscoverAttempts.Should().Be(3);
        c.Username.Should().Be("admin");
        c.ToString().Should().Be("esdb://admin:***@a.example:2113,b.example:2113,[::1]:2115?tls=false&nodePreference=follower");
    }

    [Test]
    public void esdb_discover_makes_one_host_a_gossip_seed_and_one_esdb_host_is_a_single_node()
    {
        var discover = EventStoreDbConnectionString.Parse("esdb+discover://cluster.example:2113?tls=false");
        discover.IsCluster.Should().BeTrue();
        discover.Discover.Should().BeTrue();
        discover.Hosts.Should().Equal(new EventStoreDbEndpoint("cluster.example", 2113));
        discover.NodePreference.Should().Be(NodePreference.Leader, "reads default to the leader, as in the official clients");
        discover.ToString().Should().StartWith("esdb+discover://cluster.example:2113");

        var single = EventStoreDbConnectionString.Parse("esdb://node.example:2113?tls=false");
        single.IsCluster.Should().BeFalse();
        single.Hosts.Should().ContainSingle();
    }
}
