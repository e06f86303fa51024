using System.Buffers.Binary;
using PSKafka.Engine.Storage;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// One partition's idempotent-producer state (Kafka's ProducerStateManager without transactions): per producer id
/// its epoch and its last five batches (sequence range and offsets). A retried batch is recognised and answered with
/// its original offsets instead of being written twice; a gap in the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER.
/// The batches carry producer id, epoch and base sequence, so the state is rebuilt from the log when the replica opens.
/// Not thread-safe: the replica's append lock covers check, append and update together.
/// </summary>
internal sealed class ProducerStateTable
{
    /// <summary>Kafka keeps this many batches per producer for duplicate detection (the client's max in-flight requests).</summary>
    public const int BatchesPerProducer = 5;

    /// <summary>Kafka's producer.id.expiration.ms default: a producer silent for a day is forgotten.</summary>
    public const long ExpirationMs = 86_400_000;

    private readonly Dictionary<long, Entry> _producers = new();

    private sealed class Entry
    {
        public short Epoch = -1;
        public long LastAppendMs;
        public readonly Queue<BatchMetadata> Batches = new();
        public int LastSequence => Batches.Count == 0 ? NoSequence : Batches.Last().LastSequence;
    }

    private readonly record struct BatchMetadata(int FirstSequence, int LastSequence, long FirstOffset, long LastOffset);

    /// <summary>What a produce should do: append, answer as the duplicate of an earlier append, or fail.</summary>
    public readonly record struct Verdict(ErrorCode Error, string? Message, long DuplicateFirstOffset = -1, long DuplicateLastOffset = -1)
    {
        public bool IsDuplicate => DuplicateFirstOffset >= 0;
        public static readonly Verdict Append = new(ErrorCode.None, null);
    }

    public int ProducerCount => _producers.Count;

    /// <summary>Checks the batches of one produce against the state, as Kafka's analyzeAndValidateProducerState does.</summary>
    public Verdict Check(ReadOnlySpan<byte> batches, string partitionName)
    {
        // Sequences within the same request chain on from each other.
        Dictionary<long, (short Epoch, int LastSequence)>? pending = null;
        int pos = 0;
        while (pos < batches.Length)
        {
            var rest = batches[pos..];
            int size = rest.Length < HeaderSize ? -1 : BatchSize(rest);
            if (size < HeaderSize || size > rest.Length) return Verdict.Append; // the log reports the damage
            var header = Header.Read(rest);
            pos += size;
            // Batches without a producer id carry no sequence: the log's append checks them (CRC included) right after.
            if (header.ProducerId == NoProducerId) continue;
            // As in Kafka, a batch is valid before it can count as a duplicate (a damaged retry is refused, not acknowledged).
            if (RecordBatch.ValidateHeader(rest, out _) != ErrorCode.None) return Verdict.Append;

            _producers.TryGetValue(header.ProducerId, out var entry);
            if (pending is null || !pending.TryGetValue(header.ProducerId, out var current))
                current = entry is null ? ((short)-1, NoSequence) : (entry.Epoch, entry.LastSequence);

            if (entry is not null && pending is null && header.Epoch == entry.Epoch)
                foreach (var b in entry.Batches)
                    if (b.FirstSequence == header.BaseSequence && b.LastSequence == header.LastSequence)
                        return new Verdict(ErrorCode.None, null, b.FirstOffset, b.LastOffset);

            if (header.Epoch < current.Epoch)
                return new Verdict(ErrorCode.InvalidProducerEpoch,
                    $"Epoch of producer {header.ProducerId} in {partitionName} is {header.Epoch}, which is smaller than the last seen epoch {current.Epoch}.");
            if (header.Epoch != current.Epoch)
            {
                if (header.BaseSequence != 0 && current.Epoch != -1)
                    return new Verdict(ErrorCode.OutOfOrderSequenceNumber,
                        $"Invalid sequence number for new epoch of producer {header.ProducerId} in {partitionName}: {header.Epoch} (request epoch), {header.BaseSequence} (seq. number), {current.Epoch} (current producer epoch).");
            }
            else if (current.Epoch != -1 && !InSequence(current.LastSequence, header.BaseSequence))
            {
                return new Verdict(ErrorCode.OutOfOrderSequenceNumber,
                    $"Out of order sequence number for producer {header.ProducerId} in {partitionName}: {header.BaseSequence} (incoming seq. number), {current.LastSequence} (current end sequence number).");
            }
            (pending ??= new())[header.ProducerId] = (header.Epoch, header.LastSequence);
        }
        return Verdict.Append;
    }

    /// <summary>Records appended batches (their base offsets already assigned).</summary>
    public void Update(ReadOnlySpan<byte> batches, long now)
    {
        int pos = 0;
        while (pos + HeaderSize <= batches.Length)
        {
            var rest = batches[pos..];
            int size = BinaryPrimitives.ReadInt32BigEndian(rest[BatchLengthOffset..]) + LogOverhead;
            if (size < HeaderSize || size > rest.Length) return;
            var header = Header.Read(rest);
            pos += size;
            if (header.ProducerId == NoProducerId) continue;
            if (!_producers.TryGetValue(header.ProducerId, out var entry))
            {
                if (_producers.Count > 0 && _producers.Count % 1024 == 0) Expire(now);
                _producers[header.ProducerId] = entry = new Entry();
            }
            if (entry.Epoch != header.Epoch)
            {
                entry.Epoch = header.Epoch;
                entry.Batches.Clear();
            }
            entry.Batches.Enqueue(new BatchMetadata(header.BaseSequence, header.LastSequence, header.BaseOffset, header.BaseOffset + header.LastOffsetDelta));
            while (entry.Batches.Count > BatchesPerProducer) entry.Batches.Dequeue();
            entry.LastAppendMs = now;
        }
    }

    private void Expire(long now)
    {
        foreach (var (id, entry) in _producers)
            if (now - entry.LastAppendMs > ExpirationMs) _producers.Remove(id);
    }

    /// <summary>
    /// Rebuilds the state from the log's batches from <paramref name="fromOffset"/> on. Producers seen only before it are
    /// unknown afterwards and, as in Kafka after retention removed their batches, may continue with any sequence.
    /// </summary>
    public static ProducerStateTable Rebuild(PartitionLog log, long fromOffset)
    {
        var table = new ProducerStateTable();
        long offset = Math.Max(fromOffset, log.LogStartOffset), end = log.LogEndOffset;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (offset < end)
        {
            // Pooled: a restart reads the whole active segment (up to segment.bytes) a megabyte at a time.
            var read = log.Read(offset, 1 << 20, end, rent: true);
            long next = offset;
            try
            {
                if (read.Error != ErrorCode.None || read.Records.IsEmpty) break;
                var span = read.Records.Span;
                table.Update(span, now);
                int pos = 0;
                while (pos + HeaderSize <= span.Length)
                {
                    var header = Header.Read(span[pos..]);
                    next = Math.Max(next, header.BaseOffset + header.LastOffsetDelta + 1);
                    pos += BinaryPrimitives.ReadInt32BigEndian(span[(pos + BatchLengthOffset)..]) + LogOverhead;
                }
            }
            finally
            {
                if (read.Lease is { } lease) IoBuffers.Pool.Return(lease);
            }
            if (next <= offset) break;
            offset = next;
        }
        return table;
    }

    // Sequences wrap from int.MaxValue to 0, as Kafka's do.
    private static bool InSequence(int lastSequence, int nextSequence) =>
        nextSequence == (long)lastSequence + 1 || (nextSequence == 0 && lastSequence == int.MaxValue);

    private readonly record struct Header(long BaseOffset, int LastOffsetDelta, long ProducerId, short Epoch, int BaseSequence)
    {
        public int LastSequence => BaseSequence > int.MaxValue - LastOffsetDelta
            ? LastOffsetDelta - (int.MaxValue - BaseSequence) - 1
            : BaseSequence + LastOffsetDelta;

        public static Header Read(ReadOnlySpan<byte> batch) => new(
            BinaryPrimitives.ReadInt64BigEndian(batch),
            BinaryPrimitives.ReadInt32BigEndian(batch[LastOffsetDeltaOffset..]),
            BinaryPrimitives.ReadInt64BigEndian(batch[ProducerIdOffset..]),
            BinaryPrimitives.ReadInt16BigEndian(batch[ProducerEpochOffset..]),
            BinaryPrimitives.ReadInt32BigEndian(batch[BaseSequenceOffset..]));
    }
}
