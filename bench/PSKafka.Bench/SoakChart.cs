using System.Globalization;
using ScottPlot;

namespace PSKafka.Bench;

/// <summary>
/// Draws the soak benchmark's samples (bench/Soak.Bench.ps1 writes them as CSV) as one image of four stacked charts
/// against minutes: memory, latency, lag and threads/handles, with each broker kill and restart marked.
/// </summary>
internal static class SoakChart
{
    public static int Draw(string csvPath, string pngPath, string title)
    {
        var rows = ReadCsv(csvPath);
        if (rows.Count == 0)
        {
            Console.Error.WriteLine($"{csvPath} has no samples.");
            return 2;
        }
        double[] minutes = rows.Select(r => Number(r, "Seconds") / 60).ToArray();
        double[] Column(string name) => rows.Select(r => Number(r, name)).ToArray();
        var events = rows.Where(r => r["Event"].Length > 0).Select(r => (Minute: Number(r, "Seconds") / 60, Text: r["Event"])).ToList();

        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        Plot Panel(int index, string ylabel, params (string Name, string Label)[] series)
        {
            var plot = multiplot.GetPlot(index);
            foreach (var (name, label) in series)
                plot.Add.ScatterLine(minutes, Column(name)).LegendText = label;
            foreach (var e in events)
            {
                var line = plot.Add.VerticalLine(e.Minute);
                line.Color = e.Text.StartsWith("kill", StringComparison.Ordinal) ? Colors.Red.WithAlpha(0.5) : Colors.Green.WithAlpha(0.5);
                line.LinePattern = LinePattern.Dashed;
            }
            plot.YLabel(ylabel);
            plot.XLabel("minutes");
            plot.ShowLegend(Alignment.UpperLeft);
            plot.Axes.Bottom.Range.Set(0, minutes[^1]);
            return plot;
        }

        Panel(0, "MB", [("RssMB", "RSS"), ("HeapMB", "managed heap (live)"), .. (rows[0].ContainsKey("GcCommitMB") ? [("GcCommitMB", "GC committed")] : Array.Empty<(string, string)>())]).Title(title);
        Panel(1, "ms", ("P50Ms", "p50 end to end"), ("P99Ms", "p99 end to end"));
        Panel(2, "messages behind", ("LagPs", "lag soak-ps (2 members)"), ("LagKcat", "lag soak-kcat"));
        Panel(3, "count", ("Threads", "threads"), ("Handles", "file descriptors"));
        multiplot.SavePng(pngPath, 1000, 1200);
        Console.WriteLine($"chart: {pngPath} (red: a broker killed, green: restarted)");
        return 0;
    }

    static double Number(Dictionary<string, string> row, string name) =>
        double.TryParse(row[name], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;

    // Export-Csv's form: a header, then every field in double quotes.
    static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return [];
        var header = Fields(lines[0]);
        return lines.Skip(1).Where(l => l.Length > 0)
            .Select(l => header.Zip(Fields(l)).ToDictionary(p => p.First, p => p.Second)).ToList();
    }

    static string[] Fields(string line) =>
        line.Split("\",\"").Select(f => f.Trim('"')).ToArray();
}
