namespace PSKafka.Bench;

/// <summary>A named group of measurements; each prints Markdown table rows.</summary>
public interface IBenchSuite
{
    string Name { get; }
    void Run(TextWriter output);
}

/// <summary>One result row: "| what | n records/s | n MB/s |".</summary>
public static class BenchRow
{
    public static string Format(string what, long records, long bytes, TimeSpan elapsed) =>
        $"| {what} | {records / elapsed.TotalSeconds:N0} records/s | {bytes / elapsed.TotalSeconds / 1e6:N1} MB/s |";
}
