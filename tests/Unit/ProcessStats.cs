namespace PSKafka.Tests;

/// <summary>
/// What this process holds, from Linux's /proc/self: open file descriptors, mapped regions, and the resident and dirty
/// pages of chosen file mappings (smaps). Counts, not timings, so tests can check that something does not grow.
/// Every member returns null where /proc is not there (Windows, macOS).
/// </summary>
internal static class ProcessStats
{
    public static bool Available => File.Exists("/proc/self/smaps");

    /// <summary>Fails a test that measures through /proc where there is none, rather than letting it pass unmeasured.</summary>
    public static void Require() => Assert.True(Available, "this test measures through /proc/self/smaps, which only Linux has");

    public static int? OpenFileDescriptors => Directory.Exists("/proc/self/fd") ? Directory.GetFileSystemEntries("/proc/self/fd").Length : null;

    public static int? MappedRegions => File.Exists("/proc/self/maps") ? File.ReadLines("/proc/self/maps").Count() : null;

    /// <summary>Mapped regions whose file path satisfies <paramref name="path"/>.</summary>
    public static int? MappedRegionsOf(Func<string, bool> path) =>
        File.Exists("/proc/self/maps") ? File.ReadLines("/proc/self/maps").Count(l => MappedPath(l) is { } p && path(p)) : null;

    public static int? Threads => Directory.Exists("/proc/self/task") ? Directory.GetDirectories("/proc/self/task").Length : null;

    public static long? VmRssKb =>
        File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).FirstOrDefault() : null;

    /// <summary>Resident and dirty kB (shared + private) of the mappings whose file path satisfies <paramref name="path"/>.</summary>
    public static (long RssKb, long DirtyKb, int Mappings)? Smaps(Func<string, bool> path)
    {
        if (!Available) return null;
        long rss = 0, dirty = 0;
        int mappings = 0;
        bool on = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (IsHeader(line))
            {
                on = MappedPath(line) is { } p && path(p);
                if (on) mappings++;
            }
            else if (on && line.StartsWith("Rss:", StringComparison.Ordinal)) rss += Kb(line);
            else if (on && (line.StartsWith("Shared_Dirty:", StringComparison.Ordinal) || line.StartsWith("Private_Dirty:", StringComparison.Ordinal))) dirty += Kb(line);
        }
        return (rss, dirty, mappings);
    }

    // "7f..-7f.. rw-s 00000000 08:01 1234   /path/to/file (deleted)": the header lines of smaps are maps lines.
    private static bool IsHeader(string line)
    {
        int space = line.IndexOf(' ');
        if (space <= 0) return false;
        var range = line.AsSpan(0, space);
        return range.IndexOf('-') > 0 && range.IndexOfAnyExcept("0123456789abcdef-") < 0;
    }

    private static string? MappedPath(string mapsLine)
    {
        int slash = mapsLine.IndexOf('/');
        return slash < 0 ? null : mapsLine[slash..];
    }

    private static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
}
