namespace PSKafka.Tests;

/// <summary>
/// How long a test waits for something to happen before it fails: generous, so that a loaded machine makes a test
/// slower, never red. Tests poll for a condition up to this deadline; none asserts how fast something happened
/// (throughput and latency are ./build.sh bench's).
/// </summary>
internal static class Patience
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> after the deadline.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        long end = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > end) Assert.Fail($"Timed out after {limit.TotalSeconds} s waiting for {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary><see cref="Until"/> for tests that block rather than await.</summary>
    public static void Wait(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        long end = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > end) Assert.Fail($"Timed out after {limit.TotalSeconds} s waiting for {what}.");
            Thread.Sleep(20);
        }
    }
}
