using System.Globalization;
using System.Text;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Kafka's checkpoint text files: a version line, an entry count line, then one entry per line.
/// <code>
/// 0
/// 2
/// my-topic 0 1234        (recovery-point-offset-checkpoint, log-start-offset-checkpoint: topic partition offset)
/// my.other-topic 3 0
/// </code>
/// leader-epoch-checkpoint uses the same frame with "epoch startOffset" lines. Written to a .tmp file, fsynced,
/// then renamed over the old one, so a crash leaves either the old or the new file.
/// </summary>
internal static class CheckpointFile
{
    public const int CurrentVersion = 0;

    public static void Write(string path, IReadOnlyCollection<string> lines)
    {
        var sb = new StringBuilder();
        sb.Append(CurrentVersion).Append('\n').Append(lines.Count).Append('\n');
        foreach (var l in lines) sb.Append(l).Append('\n');
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(Encoding.UTF8.GetBytes(sb.ToString()));
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The entry lines, or an empty list if the file is absent. Throws IOException on a malformed file.</summary>
    public static List<string[]> Read(string path, int fieldsPerLine)
    {
        var result = new List<string[]>();
        if (!File.Exists(path)) return result;
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2 || lines[0].Trim() != "0")
            throw new IOException($"Unrecognised version or empty checkpoint file {path}.");
        int count = int.Parse(lines[1].Trim(), CultureInfo.InvariantCulture);
        if (lines.Length < 2 + count) throw new IOException($"Checkpoint file {path} promises {count} entries but has {lines.Length - 2}.");
        for (int i = 0; i < count; i++)
        {
            var f = lines[2 + i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != fieldsPerLine) throw new IOException($"Malformed line '{lines[2 + i]}' in {path}.");
            result.Add(f);
        }
        return result;
    }

    /// <summary>"topic partition offset" files.</summary>
    public static void WriteOffsets(string path, IEnumerable<KeyValuePair<(string Topic, int Partition), long>> offsets) =>
        Write(path, offsets.Select(kv => $"{kv.Key.Topic} {kv.Key.Partition.ToString(CultureInfo.InvariantCulture)} {kv.Value.ToString(CultureInfo.InvariantCulture)}").ToList());

    public static Dictionary<(string Topic, int Partition), long> ReadOffsets(string path)
    {
        var d = new Dictionary<(string, int), long>();
        foreach (var f in Read(path, 3))
            d[(f[0], int.Parse(f[1], CultureInfo.InvariantCulture))] = long.Parse(f[2], CultureInfo.InvariantCulture);
        return d;
    }
}
