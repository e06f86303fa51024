using System.Text;
using PSKafka.Client;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Tests.Cluster;

namespace PSKafka.Tests.Client;

/// <summary>
/// The in-process group consumer as Kafka's: it joins through the coordinator, is assigned partitions, reads them
/// from where the group committed, and gives half of them up when a second member joins. Waits are on conditions
/// with generous bounds; no test asserts how long something took.
/// </summary>
public sealed class EmbeddedGroupConsumerTests
{
    private const int Generous = 30_000;
    private static readonly TimeSpan PollTime = TimeSpan.FromMilliseconds(100);

    private static GroupConsumerSettings Settings(string groupId, string topic) => new()
    {
        GroupId = groupId,
        Topics = [topic],
        AutoOffsetReset = "earliest",
        HeartbeatIntervalMs = 100,
        SessionTimeoutMs = 10_000,
    };

    /// <summary><paramref name="perPartition"/> records in each partition, valued "p{partition}-{i}".</summary>
    private static void Produce(EmbeddedClient client, string topic, int partitions, int perPartition, int from = 0)
    {
        using var producer = client.OpenProducer(new ProducerSettings());
        for (int p = 0; p < partitions; p++)
            for (int i = from; i < from + perPartition; i++)
                producer.Send(new OutgoingRecord(topic, p, null, Encoding.UTF8.GetBytes($"p{p}-{i}"), null, 1_700_000_000_000), null);
        producer.Flush(null);
    }

    private static Task PollUntil(IGroupConsumer consumer, List<ConsumedRecord> into, Func<bool> done, string what) =>
        TestCluster.WaitUntil(() => { consumer.Poll(PollTime, into, CancellationToken.None); return done(); }, Generous, what);

    private static string Value(ConsumedRecord r) => Encoding.UTF8.GetString(r.Value!);

    [Fact]
    public async Task TheOnlyMember_JoinsAndIsAssignedEveryPartition_AndReadsThemFromTheStart()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("orders", 3, 1);
        var client = new EmbeddedClient(t.Cluster);
        Produce(client, "orders", 3, 5);

        using var consumer = client.OpenGroupConsumer(Settings("billing", "orders"));
        var records = new List<ConsumedRecord>();
        await PollUntil(consumer, records, () => records.Count == 15, "15 records");

        Assert.NotEmpty(consumer.MemberId);
        Assert.True(consumer.GenerationId >= 1);
        Assert.Equal([0, 1, 2], consumer.Assignment.Select(tp => tp.Partition).Order());
        for (int p = 0; p < 3; p++)
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"p{p}-{i}"), records.Where(r => r.Partition == p).Select(Value));
        var (group, _) = client.DescribeGroup("billing");
        Assert.Equal("Stable", group.GroupState);
        Assert.Equal(consumer.MemberId, Assert.Single(group.Members).MemberId);
    }

    [Fact]
    public async Task Commit_IsWhereTheGroupsNextMemberStarts()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("events", 2, 1);
        var client = new EmbeddedClient(t.Cluster);
        Produce(client, "events", 2, 4);

        using (var consumer = client.OpenGroupConsumer(Settings("audit", "events")))
        {
            var records = new List<ConsumedRecord>();
            await PollUntil(consumer, records, () => records.Count == 8, "8 records");
            foreach (var r in records) consumer.MarkEmitted(r);
            Assert.Equal(ErrorCode.None, consumer.CommitEmitted());
            consumer.Close(commit: false);
        }
        var committed = client.FetchCommittedOffsets("audit").OrderBy(o => o.Partition).ToList();
        Assert.Equal([(0, 4L), (1, 4L)], committed.Select(o => (o.Partition, o.Offset)));

        Produce(client, "events", 2, 2, from: 4);
        using var next = client.OpenGroupConsumer(Settings("audit", "events"));
        var more = new List<ConsumedRecord>();
        await PollUntil(next, more, () => more.Count == 4 && next.AtEnd, "the 4 records after the commit");
        Assert.Equal(["p0-4", "p0-5", "p1-4", "p1-5"], more.OrderBy(r => r.Partition).ThenBy(r => r.Offset).Select(Value));
    }

    [Fact]
    public async Task ASecondMemberJoins_TheGroupRebalances_AndEachMemberOwnsHalfThePartitions()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("split", 4, 1);
        var client = new EmbeddedClient(t.Cluster);
        Produce(client, "split", 4, 3);

        using var first = client.OpenGroupConsumer(Settings("halves", "split"));
        var firstRecords = new List<ConsumedRecord>();
        await PollUntil(first, firstRecords, () => first.Assignment.Count == 4, "the first member to own all 4 partitions");
        int generation = first.GenerationId;

        // The second member's join waits for the first to rejoin, which it does from its own polls.
        using var second = client.OpenGroupConsumer(Settings("halves", "split"));
        using var stop = new CancellationTokenSource();
        var secondRecords = new List<ConsumedRecord>();
        var secondPolls = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) second.Poll(PollTime, secondRecords, stop.Token);
        });
        await PollUntil(first, firstRecords, () => first.Assignment.Count == 2 && second.Assignment.Count == 2, "two partitions for each member");
        stop.Cancel();
        await secondPolls;

        Assert.True(first.GenerationId > generation);
        Assert.Equal([0, 1, 2, 3], first.Assignment.Concat(second.Assignment).Select(tp => tp.Partition).Order());
        // Nothing was committed: the second member reads its partitions from the start, and only those.
        await PollUntil(second, secondRecords, () => secondRecords.Count >= 6, "the second member's 6 records");
        var owned = second.Assignment.Select(tp => tp.Partition).ToHashSet();
        Assert.All(secondRecords, r => Assert.Contains(r.Partition, owned));
        Assert.Equal(6, secondRecords.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        var (group, _) = client.DescribeGroup("halves");
        Assert.Equal(2, group.Members.Count);
    }
}
