using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using Xunit.Abstractions;

namespace PSKafka.Tests.Cluster;

/// <summary>Replication with real in-process brokers: followers, ISR, acks, failover, truncation.</summary>
public sealed class ReplicationTests(ITestOutputHelper output)
{
    [Fact]
    public void TutorialCluster_RetailTopic_SpreadsLeadersAndReplicas()
    {
        using var t = new TestCluster(5);
        t.CreateTopic("retail", 3, 2);
        var partitions = Enumerable.Range(0, 3).Select(p => t.Partition("retail", p)).ToList();
        Assert.All(partitions, p => Assert.Equal(2, p.Replicas.Count));
        Assert.All(partitions, p => Assert.Equal(p.Replicas, p.Isr));
        Assert.All(partitions, p => Assert.Equal(p.Replicas[0], p.Leader));
        Assert.Equal(3, partitions.Select(p => p.Leader).Distinct().Count());
        Assert.All(partitions, p => Assert.Equal(2, p.Replicas.Distinct().Count()));
        // 6 replicas over 5 brokers, round robin with Kafka's shift: 4 or 5 brokers hold one, none more than 2.
        var perBroker = partitions.SelectMany(p => p.Replicas).GroupBy(b => b).ToList();
        Assert.InRange(perBroker.Count, 4, 5);
        Assert.All(perBroker, g => Assert.InRange(g.Count(), 1, 2));
    }

    [Fact]
    public async Task Followers_CopyTheLeader_AndTheHighWatermarkFollowsTheIsr()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("copy", 1, 3);
        for (int i = 0; i < 20; i++)
        {
            var (r, _) = await t.ProduceAsync("copy", 0, TestCluster.Batch(i * 50, 50));
            Assert.Equal(ErrorCode.None, r.Error);
            Assert.Equal(i * 50L, r.BaseOffset);
            // acks=all answered: every in-sync replica has the batch.
            Assert.All(t.Replicas("copy", 0), rep => Assert.True(rep.LogEndOffset >= (i + 1) * 50L));
        }
        await TestCluster.WaitUntil(() => t.FullyReplicated("copy", 0), what: "followers to learn the high watermark");
        var replicas = t.Replicas("copy", 0).ToList();
        Assert.Equal(3, replicas.Count);
        var leaderBytes = TestCluster.AllBytes(replicas.Single(r => r.IsLeader));
        Assert.All(replicas, r => Assert.Equal(leaderBytes, TestCluster.AllBytes(r)));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), TestCluster.Records(replicas[1]).Select(x => x.Seq));
        // Followers write the leader's epochs into their own leader-epoch-checkpoint.
        Assert.All(replicas, r => Assert.Equal([(0, 0L)], r.Log.LeaderEpochCache.Entries));
    }

    [Fact]
    public async Task AcksAll_TwoOfThreeDown_NotEnoughReplicas_ButAcks1Works()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("strict", 1, 3, new() { ["min.insync.replicas"] = "2" });
        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("strict", 0, TestCluster.Batch(0, 10))).Result.Error);
        var leader = t.Leader("strict", 0)!.Id;
        var followers = t.Partition("strict", 0).Replicas.Where(id => id != leader).ToList();
        t.Cluster.StopBroker(followers[0], kill: true);
        Assert.Equal(ErrorCode.None, (await t.ProduceOnceAsync("strict", 0, TestCluster.Batch(10, 10), Acks.All)).Error);
        t.Cluster.StopBroker(followers[1]);
        Assert.Equal([leader], t.Partition("strict", 0).Isr);

        var refused = await t.ProduceOnceAsync("strict", 0, TestCluster.Batch(20, 10), Acks.All);
        Assert.Equal(ErrorCode.NotEnoughReplicas, refused.Error);
        Assert.Contains("min.insync.replicas", refused.ErrorMessage);
        Assert.Equal(20, t.Leader("strict", 0)!.GetReplica(new("strict", 0))!.LogEndOffset); // checked before the append

        var accepted = await t.ProduceOnceAsync("strict", 0, TestCluster.Batch(20, 10), Acks.Leader);
        Assert.Equal(ErrorCode.None, accepted.Error);
        Assert.Equal(20, accepted.BaseOffset);
    }

    [Fact]
    public async Task AcksAll_IsrShrinksBelowMinAfterAppend_NotEnoughReplicasAfterAppend()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("after", 1, 2, new() { ["min.insync.replicas"] = "2" });
        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("after", 0, TestCluster.Batch(0, 5))).Result.Error);
        // Only once the follower has replicated (a loaded machine may be slow to): a follower dropped for lag before
        // the append below would make it NOT_ENOUGH_REPLICAS, not the AFTER_APPEND this is about.
        t.Cluster.BrokerConfigs.Set("replica.lag.time.max.ms", "200");
        var follower = t.Cluster.GetBroker(t.Partition("after", 0).Replicas.Single(id => id != t.Leader("after", 0)!.Id))!;
        follower.ReplicationSuspended = true;
        // Accepted (ISR still 2), then the follower is dropped for lag: the high watermark passes the batch with an ISR of 1.
        var r = await t.ProduceOnceAsync("after", 0, TestCluster.Batch(5, 5), Acks.All, timeoutMs: 60_000);
        Assert.Equal(ErrorCode.NotEnoughReplicasAfterAppend, r.Error);
        Assert.Single(t.Partition("after", 0).Isr);
    }

    [Fact]
    public async Task AcksAll_FollowerStalled_TimesOutWithRequestTimedOut()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("slow", 1, 2);
        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("slow", 0, TestCluster.Batch(0, 5))).Result.Error);
        var follower = t.Cluster.GetBroker(t.Partition("slow", 0).Replicas.Single(id => id != t.Leader("slow", 0)!.Id))!;
        follower.ReplicationSuspended = true;
        var r = await t.ProduceOnceAsync("slow", 0, TestCluster.Batch(5, 5), Acks.All, timeoutMs: 300);
        Assert.Equal(ErrorCode.RequestTimedOut, r.Error);
        Assert.Equal(ErrorCode.None, (await t.ProduceOnceAsync("slow", 0, TestCluster.Batch(10, 5), Acks.Leader)).Error);
        follower.ReplicationSuspended = false;
        await TestCluster.WaitUntil(() => t.FullyReplicated("slow", 0), what: "the follower to catch up");
    }

    [Fact]
    public async Task LaggingFollower_LeavesIsr_AndRejoinsWhenCaughtUp_EpochUnchanged()
    {
        using var t = new TestCluster(3);
        t.Cluster.BrokerConfigs.Set("replica.lag.time.max.ms", "300");
        t.CreateTopic("lag", 1, 3);
        var changes = new List<string>();
        t.Cluster.Controller.IsrChanged += (tp, isr, reason) => { lock (changes) changes.Add($"{tp} [{string.Join(",", isr)}] {reason}"); };
        var before = t.Partition("lag", 0);
        var laggard = t.Cluster.GetBroker(before.Replicas[2])!;
        laggard.ReplicationSuspended = true;
        for (int i = 0; i < 5; i++) await t.ProduceAsync("lag", 0, TestCluster.Batch(i * 10, 10));
        await TestCluster.WaitUntil(() => !t.Partition("lag", 0).Isr.Contains(laggard.Id), what: "the laggard to leave the ISR");
        var shrunk = t.Partition("lag", 0);
        Assert.Equal(before.LeaderEpoch, shrunk.LeaderEpoch);
        Assert.Equal(before.Leader, shrunk.Leader);

        laggard.ReplicationSuspended = false;
        await TestCluster.WaitUntil(() => t.FullyReplicated("lag", 0), what: "the laggard to rejoin");
        Assert.Equal(before.Replicas, t.Partition("lag", 0).Isr);
        Assert.Equal(before.LeaderEpoch, t.Partition("lag", 0).LeaderEpoch);
        lock (changes)
        {
            output.WriteLine(string.Join("\n", changes));
            Assert.Contains(changes, c => c.Contains("replica.lag.time.max.ms"));
            Assert.Contains(changes, c => c.Contains("caught up"));
        }
    }

    [Fact]
    public async Task LeaderCrash_NewLeaderFromIsrWhenTheKillReturns_EpochUp_OldLeaderRejoins()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("fail", 1, 3);
        await t.ProduceAsync("fail", 0, TestCluster.Batch(0, 100));
        var before = t.Partition("fail", 0);
        // The new leader is elected within the kill, not later: how fast is the replication bench's failover row.
        t.Cluster.StopBroker(before.Leader, kill: true);
        var after = t.Partition("fail", 0);
        Assert.NotEqual(before.Leader, after.Leader);
        Assert.Contains(after.Leader, before.Isr);
        Assert.Equal(before.LeaderEpoch + 1, after.LeaderEpoch);
        Assert.DoesNotContain(before.Leader, after.Isr);
        var newLeader = t.Leader("fail", 0)!.GetReplica(new("fail", 0))!;
        Assert.Equal((after.LeaderEpoch, 100L), newLeader.Log.LeaderEpochCache.Entries[^1]);

        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("fail", 0, TestCluster.Batch(100, 100))).Result.Error);
        t.Cluster.StartBroker(before.Leader);
        await TestCluster.WaitUntil(() => t.FullyReplicated("fail", 0), what: "the old leader to catch up and rejoin");
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i),
            TestCluster.Records(t.Cluster.GetBroker(before.Leader)!.GetReplica(new("fail", 0))!).Select(x => x.Seq));
    }

    [Fact]
    public async Task AllIsrMembersDown_PartitionOffline_NotServedByStaleReplica()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("dark", 1, 3);
        await t.ProduceAsync("dark", 0, TestCluster.Batch(0, 10));
        var p = t.Partition("dark", 0);
        int stale = p.Replicas[2], middle = p.Replicas[1], last = p.Replicas[0];
        t.Cluster.StopBroker(stale, kill: true);   // leaves the ISR, misses what follows
        await t.ProduceAsync("dark", 0, TestCluster.Batch(10, 10));
        t.Cluster.StopBroker(middle, kill: true);
        await t.ProduceAsync("dark", 0, TestCluster.Batch(20, 10));
        Assert.Equal([last], t.Partition("dark", 0).Isr);
        t.Cluster.StopBroker(last, kill: true);

        var offline = t.Partition("dark", 0);
        Assert.Equal(-1, offline.Leader);
        Assert.Equal(ErrorCode.LeaderNotAvailable, offline.Error);
        Assert.Equal([last], offline.Isr); // Kafka keeps the last in-sync replica

        t.Cluster.StartBroker(stale);      // out of sync: must not lead (unclean.leader.election.enable=false)
        Assert.Equal(-1, t.Partition("dark", 0).Leader);
        var fetch = await t.Cluster.GetBroker(stale)!.FetchAsync(new FetchParams { MaxWaitMs = 0, Partitions = [new FetchPartitionParams("dark", 0, 0)] });
        Assert.Equal(ErrorCode.NotLeaderOrFollower, fetch[0].Error);
        Assert.Equal(ErrorCode.LeaderNotAvailable, (await t.ProduceOnceAsync("dark", 0, TestCluster.Batch(30, 1), Acks.Leader)).Error);

        t.Cluster.StartBroker(last);       // the last in-sync replica comes back and leads with all 30 messages
        Assert.Equal(last, t.Partition("dark", 0).Leader);
        await TestCluster.WaitUntil(() => t.Partition("dark", 0).Isr.Contains(stale), what: "the stale replica to catch up");
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), TestCluster.Records(t.Cluster.GetBroker(stale)!.GetReplica(new("dark", 0))!).Select(x => x.Seq));
    }

    [Fact]
    public async Task UncleanLeaderElection_WhenEnabled_StaleReplicaLeads()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("unclean", 1, 2, new() { ["unclean.leader.election.enable"] = "true" });
        await t.ProduceAsync("unclean", 0, TestCluster.Batch(0, 10));
        var p = t.Partition("unclean", 0);
        t.Cluster.StopBroker(p.Replicas[1], kill: true);
        await t.ProduceAsync("unclean", 0, TestCluster.Batch(10, 10));
        t.Cluster.StopBroker(p.Replicas[0], kill: true);
        t.Cluster.StartBroker(p.Replicas[1]);
        var after = t.Partition("unclean", 0);
        Assert.Equal(p.Replicas[1], after.Leader);
        Assert.Equal([p.Replicas[1]], after.Isr);
    }

    [Fact]
    public async Task DivergedFollower_TruncatesOnReturn_AllReplicasByteIdentical()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("diverge", 1, 3);
        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("diverge", 0, TestCluster.Batch(0, 100))).Result.Error);
        await TestCluster.WaitUntil(() => t.FullyReplicated("diverge", 0));
        var p = t.Partition("diverge", 0);
        int a = p.Leader;
        var others = p.Replicas.Where(id => id != a).Select(id => t.Cluster.GetBroker(id)!).ToList();

        // The leader takes writes its followers never fetch (acks=1), then crashes: they were never committed.
        foreach (var b in others) b.ReplicationSuspended = true;
        for (int i = 0; i < 5; i++)
            Assert.Equal(ErrorCode.None, (await t.ProduceOnceAsync("diverge", 0, TestCluster.Batch(1000 + i * 10, 10), Acks.Leader)).Error);
        Assert.Equal(150, t.Cluster.GetBroker(a)!.GetReplica(new("diverge", 0))!.LogEndOffset);
        Assert.Equal(100, t.Cluster.GetBroker(a)!.GetReplica(new("diverge", 0))!.HighWatermark);
        t.Cluster.StopBroker(a, kill: true);
        foreach (var b in others) b.ReplicationSuspended = false;

        // The new leader (epoch 1) takes different writes at the same offsets.
        var q = t.Partition("diverge", 0);
        Assert.Equal(1, q.LeaderEpoch);
        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("diverge", 0, TestCluster.Batch(100, 30))).Result.Error);

        t.Cluster.StartBroker(a);
        await TestCluster.WaitUntil(() => t.FullyReplicated("diverge", 0), what: "the diverged replica to truncate and rejoin");
        var replicas = t.Replicas("diverge", 0).ToList();
        Assert.Equal(3, replicas.Count);
        var reference = TestCluster.AllBytes(replicas[0]);
        Assert.All(replicas, r => Assert.Equal(reference, TestCluster.AllBytes(r)));
        Assert.Equal(Enumerable.Range(0, 130).Select(i => (long)i), TestCluster.Records(replicas.Single(r => r.BrokerId == a)).Select(x => x.Seq));
        Assert.Equal([(0, 0L), (1, 100L)], replicas.Single(r => r.BrokerId == a).Log.LeaderEpochCache.Entries);
        // The segment files themselves are identical too.
        var files = replicas.Select(r => File.ReadAllBytes(r.Log.Segments[0].LogPath)).ToList();
        Assert.All(files, f => Assert.Equal(files[0], f));
    }

    [Fact]
    public async Task PreferredLeaderElection_MovesLeadershipBack()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("pref", 3, 3);
        var preferred = t.Partition("pref", 0).Replicas[0];
        t.Cluster.StopBroker(preferred);
        Assert.NotEqual(preferred, t.Partition("pref", 0).Leader);
        var notAvailable = t.Cluster.Controller.ElectPreferredLeaders([new("pref", 0)]);
        Assert.Equal(ErrorCode.PreferredLeaderNotAvailable, notAvailable[0].Error);

        t.Cluster.StartBroker(preferred);
        await TestCluster.WaitUntil(() => Enumerable.Range(0, 3).All(p => t.FullyReplicated("pref", p)));
        int epoch = t.Partition("pref", 0).LeaderEpoch;
        var results = t.Cluster.Controller.ElectPreferredLeaders();
        Assert.Equal(ErrorCode.None, results.Single(r => r.Partition == new TopicPartition("pref", 0)).Error);
        Assert.Equal(preferred, t.Partition("pref", 0).Leader);
        Assert.Equal(epoch + 1, t.Partition("pref", 0).LeaderEpoch);
        Assert.All(Enumerable.Range(0, 3), p => Assert.Equal(t.Partition("pref", p).Replicas[0], t.Partition("pref", p).Leader));
        Assert.All(t.Cluster.Controller.ElectPreferredLeaders(), r => Assert.Equal(ErrorCode.ElectionNotNeeded, r.Error));
    }
}
