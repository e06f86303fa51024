namespace PSKafka.Engine.Cluster;

/// <summary>
/// Kafka's rack-unaware replica assignment (AdminUtils.assignReplicasToBrokers): the first replica of
/// each partition goes round robin over the brokers from a random start, the others follow at a
/// shift that grows every time the partitions wrap around the brokers, so leaders and replicas spread evenly.
/// </summary>
public static class ReplicaAssignment
{
    public static List<List<int>> Assign(IReadOnlyList<int> brokerIds, int partitions, int replicationFactor,
        int startPartition = 0, Random? random = null, int fixedStartIndex = -1)
    {
        if (partitions <= 0) throw new KafkaException(ErrorCode.InvalidPartitions, "Number of partitions must be larger than 0.");
        if (replicationFactor <= 0) throw new KafkaException(ErrorCode.InvalidReplicationFactor, "Replication factor must be larger than 0.");
        if (replicationFactor > brokerIds.Count)
            throw new KafkaException(ErrorCode.InvalidReplicationFactor,
                $"Replication factor: {replicationFactor} larger than available brokers: {brokerIds.Count}.");

        var brokers = brokerIds.Order().ToArray();
        int n = brokers.Length;
        random ??= Random.Shared;
        int startIndex = fixedStartIndex >= 0 ? fixedStartIndex : random.Next(n);
        int nextReplicaShift = fixedStartIndex >= 0 ? fixedStartIndex : random.Next(n);
        int current = Math.Max(0, startPartition);
        var result = new List<List<int>>(partitions);
        for (int i = 0; i < partitions; i++)
        {
            if (current > 0 && current % n == 0) nextReplicaShift++;
            int first = (current + startIndex) % n;
            var replicas = new List<int>(replicationFactor) { brokers[first] };
            for (int j = 0; j < replicationFactor - 1; j++)
                replicas.Add(brokers[ReplicaIndex(first, nextReplicaShift, j, n)]);
            result.Add(replicas);
            current++;
        }
        return result;
    }

    private static int ReplicaIndex(int firstReplicaIndex, int secondReplicaShift, int replicaIndex, int brokerCount)
    {
        int shift = 1 + (secondReplicaShift + replicaIndex) % (brokerCount - 1);
        return (firstReplicaIndex + shift) % brokerCount;
    }
}
