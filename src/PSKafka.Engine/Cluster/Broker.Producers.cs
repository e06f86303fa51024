using System.Security.Cryptography;

namespace PSKafka.Engine.Cluster;

public sealed partial class Broker
{
    /// <summary>
    /// InitProducerId for an idempotent producer: a fresh producer id with epoch 0 (for those Kafka always
    /// allocates a new id). Ids are random 63-bit numbers, unique without a shared counter; the partitions'
    /// producer state then turns a retried batch (same id, epoch and sequence) into its first answer.
    /// </summary>
    public (long ProducerId, short ProducerEpoch) InitProducerId() =>
        (RandomNumberGenerator.GetInt32(0, int.MaxValue) * (1L << 31) + RandomNumberGenerator.GetInt32(0, int.MaxValue), 0);
}
