namespace PSKafka.Engine.Api;

/// <summary>
/// OffsetForLeaderEpoch (API key 23): a follower asks the leader where <see cref="LeaderEpoch"/> ended
/// in the leader's log, to truncate a diverged tail (KIP-101/279). <see cref="CurrentLeaderEpoch"/>
/// fences requests from a replica with stale leadership information (-1 skips the check).
/// </summary>
public sealed record OffsetForLeaderEpochPartitionParams(string Topic, int Partition, int LeaderEpoch, int CurrentLeaderEpoch = -1);

/// <summary>The largest epoch at or below the requested one and the offset where it ended; (-1, -1) if unknown.</summary>
public sealed record OffsetForLeaderEpochResult(string Topic, int Partition, ErrorCode Error, int LeaderEpoch, long EndOffset);
