namespace PSKafka.Engine.Api;

/// <summary>ListOffsets (API key 2): an offset for a timestamp, or <see cref="OffsetSpec"/>.</summary>
public sealed record ListOffsetsPartitionParams(string Topic, int Partition, long Timestamp);

public sealed record ListOffsetsResult(string Topic, int Partition, ErrorCode Error, long Offset, long Timestamp, int LeaderEpoch = -1);
