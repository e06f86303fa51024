namespace PSKafka.Client;

public sealed partial class EmbeddedClient
{
    public IReadOnlyList<BrokerConfigEntry> DescribeBrokerConfigs(int brokerId) =>
        RunningBroker(brokerId).DescribeConfigs()
            .Select(v => new BrokerConfigEntry(v.Name, v.Value, SourceName(v.Source), v.IsReadOnly, false, v.Type.ToString().ToUpperInvariant(), v.Default))
            .ToList();

    /// <summary>
    /// Cluster-wide: any setting but the ones fixed at start, since this process hosts the brokers (server.properties);
    /// one broker's overrides: Kafka's dynamic settings only, as over the wire.
    /// </summary>
    public void AlterBrokerConfigs(int? brokerId, IReadOnlyDictionary<string, string?> changes)
    {
        if (brokerId is { } id) RunningBroker(id);
        else AnyBroker();
        Cluster.Controller.AlterBrokerConfigs(brokerId, changes);
    }

    // ErrorId BrokerNotFound, as the other commands that name a local broker.
    private Engine.Cluster.Broker RunningBroker(int id) =>
        Cluster.GetBroker(id) is { IsRunning: true } broker ? broker
        : throw new BrokerNotFoundException(Cluster.GetBroker(id) is null ? $"Broker {id} does not exist." : $"Broker {id} is not running.");
}
