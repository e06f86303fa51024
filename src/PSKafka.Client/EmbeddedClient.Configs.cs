using PSKafka.Engine.Api;
using PSKafka.Engine.Config;

namespace PSKafka.Client;

public sealed partial class EmbeddedClient
{
    public IReadOnlyList<BrokerConfigEntry> DescribeBrokerConfigs(int brokerId) =>
        RunningBroker(brokerId).DescribeConfigs(ConfigResource.ForBroker(brokerId), ConfigAccess.Host)
            .Select(c => new BrokerConfigEntry(c.Name, c.Value, SourceName(c.Source), c.IsReadOnly, false, c.Definition.Type.ToString().ToUpperInvariant(), c.Definition.Default))
            .ToList();

    /// <summary>
    /// Cluster-wide: any setting but the ones fixed at start, since this process hosts the brokers (server.properties);
    /// one broker's overrides: Kafka's dynamic settings only, as over the wire.
    /// </summary>
    public void AlterBrokerConfigs(int? brokerId, IReadOnlyDictionary<string, string?> changes) =>
        (brokerId is { } id ? RunningBroker(id) : AnyBroker()).AlterConfigs(ConfigResource.ForBroker(brokerId), changes, ConfigAccess.Host);

    // ErrorId BrokerNotFound, as the other commands that name a local broker.
    private Engine.Cluster.Broker RunningBroker(int id) =>
        Cluster.GetBroker(id) is { IsRunning: true } broker ? broker
        : throw new BrokerNotFoundException(Cluster.GetBroker(id) is null ? $"Broker {id} does not exist." : $"Broker {id} is not running.");
}
