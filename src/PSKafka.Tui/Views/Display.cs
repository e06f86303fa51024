using System.Globalization;

namespace PSKafka.Tui.Views;

/// <summary>How the console writes numbers, lists and trends: short, invariant, readable without colour.</summary>
public static class Display
{
    private static readonly char[] Bars = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

    /// <summary>A trend in block characters, newest on the right, scaled to the largest value shown.</summary>
    public static string Sparkline(IReadOnlyList<double>? values, int width)
    {
        if (values is null || values.Count == 0 || width <= 0) return "";
        var shown = values.Skip(Math.Max(0, values.Count - width)).ToArray();
        double max = shown.Max();
        if (max <= 0) return new string(Bars[0], shown.Length);
        return new string(shown.Select(v => Bars[(int)Math.Round(Math.Clamp(v / max, 0, 1) * (Bars.Length - 1))]).ToArray());
    }

    public static string Sparkline(IReadOnlyList<long>? values, int width) => Sparkline(values?.Select(v => (double)v).ToArray(), width);

    public static string Ids(IEnumerable<int> ids) => string.Join(",", ids);

    /// <summary>The ISR with the replicas that fell out of it named, e.g. "0,1 (2 out)".</summary>
    public static string Isr(IReadOnlyList<int> isr, IEnumerable<int> outOfSync)
    {
        var missing = outOfSync.ToList();
        return missing.Count == 0 ? Ids(isr) : $"{Ids(isr)} ({Ids(missing)} out)";
    }

    /// <summary>What a figure the cluster cannot tell shows as: never a zero that looks real.</summary>
    public const string Unknown = "-";

    public static string Count(long value) => value < 0 ? Unknown : value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Rate(double perSecond) => perSecond switch
    {
        <= 0 => "0",
        < 10 => perSecond.ToString("0.#", CultureInfo.InvariantCulture),
        < 10_000 => perSecond.ToString("0", CultureInfo.InvariantCulture),
        < 10_000_000 => (perSecond / 1_000).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => (perSecond / 1_000_000).ToString("0.#", CultureInfo.InvariantCulture) + "M",
    };

    public static string Bytes(long bytes) => bytes < 0 ? Unknown : Scaled(bytes, "B");

    public static string BytesPerSecond(double bytes) => Scaled(bytes, "B/s");

    private static string Scaled(double value, string unit)
    {
        string[] prefixes = ["", "K", "M", "G", "T"];
        int i = 0;
        while (value >= 1024 && i < prefixes.Length - 1) { value /= 1024; i++; }
        return i == 0 ? $"{value.ToString("0", CultureInfo.InvariantCulture)} {unit}" : $"{value.ToString("0.0", CultureInfo.InvariantCulture)} {prefixes[i]}i{unit}";
    }
}
