using System.Text.RegularExpressions;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;
using PSKafka.Tests.Cluster;
using PSKafka.Tests.Protocol;
using PSKafka.Tests.Storage;

namespace PSKafka.Tests.Logging;

public sealed class BrokerLogTests
{
    static string Text(string dir, string file) =>
        File.ReadAllText(Path.Combine(dir, file)); // the broker's files are opened to share reading

    [Fact]
    public void Lines_follow_Kafkas_log4j_pattern()
    {
        using var tmp = new TempDir();
        using (var logging = BrokerLogging.Open(tmp.Path))
            logging.For(KafkaLoggers.Partition, "[Partition retail-0 broker=1] ").Info("Expanding ISR from 1,2 to 1,2,0 {not a template}");
        var line = Text(tmp.Path, "server.log").TrimEnd('\n');
        Assert.Matches(new Regex(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] INFO \[Partition retail-0 broker=1\] Expanding ISR from 1,2 to 1,2,0 \{not a template\} \(kafka\.cluster\.Partition\)$"), line);
    }

    [Fact]
    public void Loggers_go_to_the_files_Kafkas_log4j_properties_names()
    {
        using var tmp = new TempDir();
        using (var logging = BrokerLogging.Open(tmp.Path))
        {
            logging.For(KafkaLoggers.KafkaServer, "[KafkaServer id=0] ").Info("started");
            logging.For(KafkaLoggers.StateChange, "[Broker id=0] ").Info("Leader t-0 starts at leader epoch 1");
            logging.For(KafkaLoggers.Controller, "[Controller id=0] ").Info("Shutting down broker 1");
        }
        string server = Text(tmp.Path, "server.log"), state = Text(tmp.Path, "state-change.log"), controller = Text(tmp.Path, "controller.log");
        Assert.Contains("started (kafka.server.KafkaServer)", server);
        Assert.DoesNotContain("state.change.logger", server); // additivity=false, as in Kafka
        Assert.DoesNotContain("kafka.controller", server);
        Assert.Contains("starts at leader epoch 1 (state.change.logger)", state);
        Assert.Contains("Shutting down broker 1 (kafka.controller.KafkaController)", controller);
        Assert.DoesNotContain("KafkaServer", state + controller);
    }

    [Fact]
    public void Files_roll_by_size_and_read_back_in_order()
    {
        using var tmp = new TempDir();
        using (var logging = BrokerLogging.Open(tmp.Path, fileSizeLimitBytes: 2_000))
        {
            var log = logging.For(KafkaLoggers.UnifiedLog, "[UnifiedLog partition=t-0, dir=/x/broker-2] ");
            for (int i = 0; i < 100; i++) log.Info($"line {i}");
        }
        var files = BrokerLogReader.Files(tmp.Path, BrokerLogFile.Server);
        Assert.True(files.Count > 2, $"{files.Count} files");
        Assert.EndsWith("server.log", files[0]);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= 2_000 + 200, $"{f}: {new FileInfo(f).Length} bytes")); // the limit, give or take the line that crossed it
        var entries = BrokerLogReader.Read(tmp.Path, BrokerLogFile.Server).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"[UnifiedLog partition=t-0, dir=/x/broker-2] line {i}"), entries.Select(e => e.Message));
        Assert.All(entries, e => Assert.Equal(2, e.BrokerId));
        Assert.Equal(["line 97", "line 98", "line 99"], BrokerLogReader.Tail(tmp.Path, BrokerLogFile.Server, 3).Select(e => e.Message[^7..]));
    }

    [Fact]
    public void Levels_change_while_running_per_logger_and_package()
    {
        using var tmp = new TempDir();
        using (var logging = BrokerLogging.Open(tmp.Path))
        {
            var partition = logging.For(KafkaLoggers.Partition);
            var server = logging.For(KafkaLoggers.KafkaServer);
            partition.Debug("hidden");
            logging.Levels.Set("kafka.cluster", BrokerLogLevel.Debug);
            Assert.Equal(BrokerLogLevel.Debug, logging.Levels.Get(KafkaLoggers.Partition));
            partition.Debug("shown");
            server.Debug("also hidden");
            logging.Levels.Set("kafka.cluster", null);
            partition.Debug("hidden again");
            logging.Levels.Set(KafkaLoggers.Root, BrokerLogLevel.Warn);
            server.Info("hidden by the root");
            Assert.Throws<KafkaException>(() => logging.Levels.Set("no.such.logger", BrokerLogLevel.Info));
        }
        var messages = BrokerLogReader.Read(tmp.Path, BrokerLogFile.Server).Select(e => e.Message).ToList();
        Assert.Equal(["shown"], messages);
    }

    [Fact]
    public void Stack_traces_and_multi_line_messages_belong_to_their_entry()
    {
        const string text = "[2026-12-07 15:42:37,123] ERROR [KafkaApi-1] Unexpected error handling request Produce (kafka.server.KafkaApis)\n" +
            "System.InvalidOperationException: boom\n   at X.Y()\n" +
            "[2026-12-07 15:42:38,000] INFO [KafkaServer id=2] KafkaConfig values: \n\tbroker.id = 2\n (kafka.server.KafkaConfig)\n" +
            "[2026-12-07 15:42:39,000] INFO [GroupCoordinator 0]: Stabilized group g generation 1 (kafka.coordinator.group.GroupCoordinator)\n";
        var e = BrokerLogReader.Parse(text, BrokerLogFile.Server).ToList();
        Assert.Equal(3, e.Count);
        Assert.Equal((BrokerLogLevel.Error, "kafka.server.KafkaApis", 1), (e[0].Level, e[0].Logger, e[0].BrokerId));
        Assert.Equal("System.InvalidOperationException: boom\n   at X.Y()", e[0].Exception);
        Assert.Equal(("kafka.server.KafkaConfig", 2, (string?)null), (e[1].Logger, e[1].BrokerId, e[1].Exception));
        Assert.Contains("\tbroker.id = 2", e[1].Message);
        Assert.Equal(0, e[2].BrokerId);
        Assert.Equal(new DateTime(2026, 12, 7, 15, 42, 39), e[2].Time);
        Assert.Equal("[2026-12-07 15:42:39,000] INFO [GroupCoordinator 0]: Stabilized group g generation 1 (kafka.coordinator.group.GroupCoordinator)", e[2].ToString());
    }

    [Fact]
    public void A_follower_hands_out_what_is_written_after_it_started()
    {
        using var tmp = new TempDir();
        using var logging = BrokerLogging.Open(tmp.Path, fileSizeLimitBytes: 1_000);
        var log = logging.For(KafkaLoggers.KafkaServer, "[KafkaServer id=0] ");
        log.Info("before");
        var follower = new BrokerLogReader.Follower(tmp.Path, BrokerLogFile.Server);
        for (int i = 0; i < 30; i++) log.Info($"after {i}"); // rolls over a few times
        log.Error("failed", new InvalidOperationException("boom"));
        var seen = new List<BrokerLogEntry>();
        seen.AddRange(follower.Poll()); // all but the last entry, which may still be growing
        seen.AddRange(follower.Poll()); // nothing new: the last one is complete
        Assert.Equal(31, seen.Count);
        Assert.Equal("[KafkaServer id=0] after 0", seen[0].Message);
        Assert.Contains("InvalidOperationException: boom", seen[^1].Exception);
        Assert.Empty(follower.Poll());
    }

    [Fact]
    public async Task An_exception_in_a_handler_is_logged_at_ERROR_with_its_stack()
    {
        using var tmp = new TempDir();
        using (var logging = BrokerLogging.Open(tmp.Path))
        {
            var api = new FakeKafkaApi { BeforeRespond = _ => throw new InvalidOperationException("handler blew up") };
            var handler = new KafkaProtocolHandler(api, logging.For(KafkaLoggers.SocketServer, "[SocketServer listenerType=BROKER, nodeId=3] "));
            var connection = new ConnectionContext(1, null, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 50000));
            var response = await handler.HandleAsync(MessageFixtures.RequestPayload(new MetadataRequest(), 9, 7), connection, CancellationToken.None);
            Assert.Null(response);
            Assert.True(connection.CloseRequested);
            // A hostile frame: a request key no Kafka has is rejected with a WARN naming the peer.
            var hostile = new byte[] { 0x47, 0x45, 0x54, 0x20, 0, 0, 0, 1 };
            await handler.HandleAsync(hostile, new ConnectionContext(2, null, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 50001)), CancellationToken.None);
        }
        var entries = BrokerLogReader.Read(tmp.Path, BrokerLogFile.Server).ToList();
        var error = Assert.Single(entries, e => e.Level == BrokerLogLevel.Error);
        Assert.Contains("Unexpected error handling request Metadata v9 correlationId 7 from 127.0.0.1:50000", error.Message);
        Assert.Equal(3, error.BrokerId);
        Assert.StartsWith("System.InvalidOperationException: handler blew up", error.Exception);
        Assert.Contains("   at ", error.Exception);
        var warn = Assert.Single(entries, e => e.Level == BrokerLogLevel.Warn);
        Assert.Contains("Closing connection from 127.0.0.1:50001: unknown API key 18245", warn.Message);
    }

    [Fact]
    public async Task A_killed_follower_shrinks_the_ISR_and_expands_it_when_it_returns()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("retail", 1, 3);
        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("retail", 0, TestCluster.Batch(0, 10))).Result.Error);
        await TestCluster.WaitUntil(() => t.FullyReplicated("retail", 0), what: "replication");
        int leader = t.Partition("retail", 0).Leader;
        int follower = t.Partition("retail", 0).Replicas.First(r => r != leader);
        string logs = Path.Combine(t.DataDirectory, BrokerLogging.DirectoryName);

        t.Cluster.StopBroker(follower, kill: true);
        var shrink = BrokerLogReader.Read(logs, BrokerLogFile.Server).Single(e => e.Message.Contains("Shrinking ISR"));
        Assert.Equal("kafka.cluster.Partition", shrink.Logger);
        Assert.Equal(leader, shrink.BrokerId);
        Assert.Matches($@"^\[Partition retail-0 broker={leader}\] Shrinking ISR from [0-2],[0-2],[0-2] to [0-2],[0-2]\. Leader: \(highWatermark: 10, endOffset: 10\)\. " +
            $@"Out of sync replicas: \(brokerId: {follower}, endOffset: 10, lastCaughtUpTimeMs: \d+\)\. \(reason: broker {follower} failed\)$", shrink.Message);
        Assert.Contains(BrokerLogReader.Read(logs, BrokerLogFile.StateChange), e => e.Message.Contains("Changed partition retail-0") && e.Message.Contains($"broker {follower} failed"));
        Assert.Contains(BrokerLogReader.Read(logs, BrokerLogFile.Controller), e => e.Message.EndsWith($"Broker failure callback for {follower}"));

        t.Cluster.StartBroker(follower);
        await TestCluster.WaitUntil(() => t.FullyReplicated("retail", 0), what: "the follower back in the ISR");
        var expand = BrokerLogReader.Read(logs, BrokerLogFile.Server).Single(e => e.Message.Contains("Expanding ISR"));
        Assert.Matches($@"^\[Partition retail-0 broker={leader}\] Expanding ISR from [0-2],[0-2] to [0-2],[0-2],[0-2] \(reason: caught up\)$", expand.Message);
        Assert.Contains(BrokerLogReader.Read(logs, BrokerLogFile.StateChange),
            e => e.BrokerId == follower && e.Message.Contains("Follower retail-0 starts at leader epoch"));
        Assert.Contains(BrokerLogReader.Read(logs, BrokerLogFile.Server), e => e.Message == $"[KafkaServer id={follower}] started");
        Assert.DoesNotContain(BrokerLogReader.Read(logs, BrokerLogFile.Server), e => e.Level >= BrokerLogLevel.Error);
    }

    [Fact]
    public async Task Kafkas_BROKER_LOGGER_resource_describes_and_alters_the_levels()
    {
        using var t = new TestCluster(1);
        var api = new BrokerKafkaApi(t.Cluster.GetBroker(0)!);
        var alter = await api.IncrementalAlterConfigsAsync(new IncrementalAlterConfigsRequest
        {
            Resources = [new() { ResourceType = 8, ResourceName = "0", Configs = [new() { Name = "kafka.cluster.Partition", ConfigOperation = 0, Value = "DEBUG" }] }],
        }, MessageFixtures.Context(1), CancellationToken.None);
        Assert.Equal(0, alter.Responses[0].ErrorCode);
        Assert.Equal(BrokerLogLevel.Debug, t.Cluster.Logging.Levels.Get(KafkaLoggers.Partition));

        var described = await api.DescribeConfigsAsync(new DescribeConfigsRequest
        {
            Resources = [new() { ResourceType = 8, ResourceName = "0", ConfigurationKeys = null }],
        }, MessageFixtures.Context(4), CancellationToken.None);
        var partition = Assert.Single(described.Results[0].Configs, c => c.Name == KafkaLoggers.Partition);
        Assert.Equal(("DEBUG", (sbyte)6), (partition.Value, partition.ConfigSource)); // DYNAMIC_BROKER_LOGGER_CONFIG
        Assert.Equal("INFO", Assert.Single(described.Results[0].Configs, c => c.Name == KafkaLoggers.Root).Value);

        var refused = await api.IncrementalAlterConfigsAsync(new IncrementalAlterConfigsRequest
        {
            Resources = [new() { ResourceType = 8, ResourceName = "0", Configs = [new() { Name = "kafka.cluster.Partition", ConfigOperation = 1 }, new() { Name = "no.such", ConfigOperation = 0, Value = "INFO" }] }],
        }, MessageFixtures.Context(1), CancellationToken.None);
        Assert.Equal((short)ErrorCode.InvalidConfig, refused.Responses[0].ErrorCode);
        Assert.Equal(BrokerLogLevel.Debug, t.Cluster.Logging.Levels.Get(KafkaLoggers.Partition)); // all or nothing
    }

    [Fact]
    public void Retention_deletions_are_logged_with_Kafkas_reason()
    {
        using var tmp = new TempDir();
        using (var logging = BrokerLogging.Open(tmp.Sub("logs")))
        using (var log = PSKafka.Engine.Storage.PartitionLog.Open(tmp.Sub("broker-3/t-0"), Batches.Small(segmentBytes: 300), recoverAll: false, recoveryPoint: 0, logging: logging))
        {
            for (int i = 0; i < 10; i++) log.AppendAsLeader(Batches.Make(2, timestamp: 1_000), 0, 0);
            Assert.True(log.ApplyRetention(retentionMs: 10_000, retentionBytes: -1, now: 1_000_000) > 0);
        }
        var deleting = BrokerLogReader.Read(tmp.Sub("logs"), BrokerLogFile.Server).First(e => e.Message.Contains("Deleting segment"));
        Assert.Equal(("kafka.log.UnifiedLog", 3), (deleting.Logger, deleting.BrokerId));
        Assert.Matches(@"^\[UnifiedLog partition=t-0, dir=.*broker-3\] Deleting segment LogSegment\(baseOffset=0, size=\d+, lastModifiedTime=\d+, largestRecordTimestamp=Some\(\d+\)\) " +
            @"due to log retention time 10000ms breach based on the largest record timestamp in the segment$", deleting.Message);
    }

    [Fact]
    public void What_escapes_a_broker_thread_is_logged_even_out_of_memory()
    {
        using var tmp = new TempDir();
        using (var logging = BrokerLogging.Open(tmp.Path))
        {
            var log = logging.For(KafkaLoggers.KafkaServer, "[KafkaServer id=0] ");
            var thread = new Thread(() => log.RunThread(() => throw new OutOfMemoryException("no more"))) { Name = "kafka-test-thread" };
            thread.Start();
            thread.Join();
        }
        var error = Assert.Single(BrokerLogReader.Read(tmp.Path, BrokerLogFile.Server));
        Assert.Equal((BrokerLogLevel.Error, "[KafkaServer id=0] Uncaught exception in thread 'kafka-test-thread':"), (error.Level, error.Message));
        Assert.StartsWith("System.OutOfMemoryException: no more", error.Exception);
    }

    [Fact]
    public async Task A_lagging_follower_leaves_the_ISR_with_replica_lag_time_max_ms_named()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("lag", 1, 2);
        int leader = t.Partition("lag", 0).Leader;
        var follower = t.Cluster.GetBroker(t.Partition("lag", 0).Replicas.Single(id => id != leader))!;
        // The follower's first fetch, before it stalls: until then the leader knows no end offset of it (a loaded
        // machine may not have run that fetch yet), and the line below names the one it had. The lag limit drops to
        // 200 ms only then, so a follower slow to start is not dropped (and taken back) before it stalls.
        var leaderReplica = t.Cluster.GetBroker(leader)!.GetReplica(new TopicPartition("lag", 0))!;
        await TestCluster.WaitUntil(() => !leaderReplica.FollowerMissesHighWatermark(follower.Id), what: "the follower's first fetch");
        t.Cluster.BrokerConfigs.Set("replica.lag.time.max.ms", "200");
        follower.ReplicationSuspended = true;
        string logs = Path.Combine(t.DataDirectory, BrokerLogging.DirectoryName);
        await TestCluster.WaitUntil(() => t.Partition("lag", 0).Isr.Count == 1, what: "the follower to leave the ISR");
        var shrink = BrokerLogReader.Read(logs, BrokerLogFile.Server).Single(e => e.Message.Contains("Shrinking ISR"));
        // endOffset -1: suspended before its first fetch, the leader never learned the follower's end (Kafka's unknown offset).
        Assert.Matches($@"^\[Partition lag-0 broker={leader}\] Shrinking ISR from .*Out of sync replicas: \(brokerId: {follower.Id}, endOffset: (-1|0), lastCaughtUpTimeMs: \d+\)\. " +
            @"\(reason: not caught up within replica\.lag\.time\.max\.ms=200\)$", shrink.Message);
    }

    [Fact]
    public async Task A_crash_is_recovered_and_the_log_says_what_was_truncated_and_why()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("t", 1, 1);
        Assert.Equal(ErrorCode.None, (await t.ProduceAsync("t", 0, TestCluster.Batch(0, 5), Acks.Leader)).Result.Error);
        string segment = Path.Combine(t.Cluster.GetBroker(0)!.LogDirectory, "t-0", "00000000000000000000.log");
        t.Cluster.StopBroker(0, kill: true);
        using (var f = new FileStream(segment, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) f.Write(new byte[30]); // a torn write
        t.Cluster.StartBroker(0);
        string logs = Path.Combine(t.DataDirectory, BrokerLogging.DirectoryName);
        var lines = BrokerLogReader.Read(logs, BrokerLogFile.Server).Select(e => e.Message).ToList();
        Assert.Contains(lines, l => l.Contains("Attempting recovery for all logs") && l.Contains("since no clean shutdown file was found"));
        Assert.Contains(lines, l => l.StartsWith("[LogLoader partition=t-0, dir=") && l.Contains("Recovering unflushed segment 0. 0/1 recovered for t-0."));
        Assert.Contains(lines, l => l.Contains("Found invalid messages in log segment") && l.Contains("Truncated 30 bytes") && l.Contains("incomplete"));
    }
}
