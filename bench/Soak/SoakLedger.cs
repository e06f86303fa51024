// The soak benchmark's books (bench/Soak.Bench.ps1 compiles this with Add-Type): which offsets the producer had
// acknowledged, which each consumer group received and how often, and the end-to-end latency of each receipt.
// Offsets are dense per partition, so a group's receipts are counts in a growable array: the books of a million
// messages take a few megabytes, and the process's RSS stays the brokers' to measure.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace PSKafka.Soak
{
    public sealed class SoakLedger
    {
        private readonly object _gate = new object();
        private readonly int _partitions;
        private readonly List<byte>[] _acked;
        private readonly Dictionary<string, List<byte>[]> _received = new Dictionary<string, List<byte>[]>();
        private readonly Dictionary<string, long[]> _next = new Dictionary<string, long[]>();
        private readonly Dictionary<string, long> _duplicates = new Dictionary<string, long>();
        private List<int> _latencies = new List<int>(100_000);
        private long _ackedCount;
        private readonly int _capacity;

        /// <param name="expectedMessages">What the run will produce: the books are that large from the start, so
        /// the ledger's own growth does not show as the process's RSS growth.</param>
        public SoakLedger(int partitions, IEnumerable<string> groups, long expectedMessages)
        {
            _partitions = partitions;
            _capacity = (int)Math.Min(int.MaxValue / 2, expectedMessages / partitions + expectedMessages / partitions / 4 + 1024);
            _acked = NewBooks();
            foreach (var g in groups)
            {
                _received[g] = NewBooks();
                _next[g] = new long[partitions];
                _duplicates[g] = 0;
            }
        }

        private List<byte>[] NewBooks() => Enumerable.Range(0, _partitions).Select(_ => new List<byte>(_capacity)).ToArray();

        private static void Mark(List<byte> books, long offset, out byte before)
        {
            while (books.Count <= offset) books.Add(0);
            before = books[(int)offset];
            if (before < byte.MaxValue) books[(int)offset] = (byte)(before + 1);
        }

        /// <summary>A delivery report: the producer has this offset acknowledged.</summary>
        public void Ack(int partition, long offset)
        {
            lock (_gate)
            {
                Mark(_acked[partition], offset, out _);
                _ackedCount++;
            }
        }

        public long AckedCount { get { lock (_gate) return _ackedCount; } }

        /// <summary>A group member received a record produced at <paramref name="createTimeMs"/> (Unix ms).</summary>
        public void Receive(string group, int partition, long offset, long createTimeMs)
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            lock (_gate)
            {
                Mark(_received[group][partition], offset, out var before);
                if (before > 0) _duplicates[group]++;
                var next = _next[group];
                if (offset + 1 > next[partition]) next[partition] = offset + 1;
                _latencies.Add((int)Math.Max(0, now - createTimeMs));
            }
        }

        /// <summary>Messages behind <paramref name="highWatermarks"/> for a group: what it has not yet received past its furthest offset.</summary>
        public long Lag(string group, long[] highWatermarks)
        {
            lock (_gate)
            {
                long lag = 0;
                var next = _next[group];
                for (int p = 0; p < _partitions; p++) lag += Math.Max(0, highWatermarks[p] - next[p]);
                return lag;
            }
        }

        public long Duplicates(string group) { lock (_gate) return _duplicates[group]; }

        public long ReceivedCount(string group)
        {
            lock (_gate) return _received[group].Sum(b => b.LongCount(x => x > 0));
        }

        /// <summary>Acknowledged offsets the group never received.</summary>
        public long Missing(string group)
        {
            lock (_gate)
            {
                long missing = 0;
                for (int p = 0; p < _partitions; p++)
                {
                    var acked = _acked[p];
                    var got = _received[group][p];
                    for (int o = 0; o < acked.Count; o++)
                        if (acked[o] > 0 && (o >= got.Count || got[o] == 0)) missing++;
                }
                return missing;
            }
        }

        /// <summary>p50, p99 and max of the receipts since the last call, and how many there were; the window starts anew.</summary>
        public double[] TakeLatencyWindow()
        {
            List<int> window;
            lock (_gate)
            {
                window = _latencies;
                _latencies = new List<int>(Math.Max(1024, window.Count));
            }
            if (window.Count == 0) return new double[] { double.NaN, double.NaN, double.NaN, 0 };
            window.Sort();
            double At(double q) => window[Math.Min(window.Count - 1, (int)Math.Ceiling(q * window.Count) - 1)];
            return new double[] { At(0.50), At(0.99), window[window.Count - 1], window.Count };
        }

        /// <summary>
        /// Reads kcat's lines ("partition offset timestamp", -f '%p %o %T\n') on a thread of its own, as they come.
        /// </summary>
        public Thread FollowKcat(Process kcat, string group)
        {
            var thread = new Thread(() =>
            {
                string line;
                while ((line = kcat.StandardOutput.ReadLine()) != null)
                {
                    var parts = line.Split(' ');
                    if (parts.Length == 3 && int.TryParse(parts[0], out var p) && long.TryParse(parts[1], out var o) && long.TryParse(parts[2], out var t))
                        Receive(group, p, o, t);
                }
            }) { IsBackground = true, Name = "soak-kcat-" + group };
            thread.Start();
            return thread;
        }

        /// <summary>
        /// The process's resources: RSS, threads and open file descriptors (Linux /proc), the live managed heap, and the
        /// memory the GC holds committed (live or not), which tells RSS growth in the GC's keeping from native growth.
        /// </summary>
        public static long[] ProcessResources()
        {
            long rss = 0, threads = 0;
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:")) rss = long.Parse(line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
                else if (line.StartsWith("Threads:")) threads = long.Parse(line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)[1]);
            }
            long fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
            return new[] { rss, threads, fds, GC.GetTotalMemory(false), GC.GetGCMemoryInfo().TotalCommittedBytes };
        }
    }
}
