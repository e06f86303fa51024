using System.Globalization;
using System.Text.RegularExpressions;

namespace PSKafka.Cmdlets;

/// <summary>One parsed line of an Apache combined-format access log.</summary>
public sealed class AccessLogEntry
{
    public required string IPAddress { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required string Method { get; init; }
    /// <summary>The request path as written in the log (URL-quoted).</summary>
    public required string Path { get; init; }
    /// <summary>Decoded department name from /department/&lt;name&gt;/..., else null.</summary>
    public string? Department { get; init; }
    /// <summary>Decoded category name from /categories/&lt;name&gt;/..., else null.</summary>
    public string? Category { get; init; }
    /// <summary>Product id (or name) from /product/&lt;x&gt; and /add_to_cart/&lt;x&gt;, else null.</summary>
    public string? Product { get; init; }
    public required int Status { get; init; }
    /// <summary>Response size; 0 when the log says "-".</summary>
    public required long Bytes { get; init; }
    public required string UserAgent { get; init; }
    /// <summary>The line as read, for sending on unchanged.</summary>
    public required string Line { get; init; }

    public override string ToString() => Line;
}

/// <summary>Parses combined log format lines such as <see cref="AccessLogGenerator"/> writes.</summary>
public static partial class AccessLogParser
{
    [GeneratedRegex("""^(?<ip>\S+) \S+ \S+ \[(?<time>[^\]]+)\] "(?<method>[A-Z]+) (?<path>\S+)(?: HTTP/[0-9.]+)?" (?<status>\d{3}) (?<bytes>\d+|-) "(?<referrer>[^"]*)" "(?<agent>[^"]*)"\s*$""",
        RegexOptions.CultureInvariant)]
    private static partial Regex CombinedFormat();

    public static bool TryParse(string line, out AccessLogEntry? entry, out string? error)
    {
        entry = null;
        var match = CombinedFormat().Match(line);
        if (!match.Success)
        {
            error = "The line is not in Apache combined log format.";
            return false;
        }
        if (!TryParseTime(match.Groups["time"].Value, out var time))
        {
            error = $"The time stamp '{match.Groups["time"].Value}' is not in the form dd/MMM/yyyy:HH:mm:ss +hhmm.";
            return false;
        }

        var path = match.Groups["path"].Value;
        string? department = null, category = null, product = null;
        var segments = path.Split('?', 2)[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length >= 2)
        {
            var value = Uri.UnescapeDataString(segments[1]);
            switch (segments[0])
            {
                case "department": department = value; break;
                case "categories": category = value; break;
                case "product" or "add_to_cart": product = value; break;
            }
        }

        var bytes = match.Groups["bytes"].Value;
        entry = new AccessLogEntry
        {
            IPAddress = match.Groups["ip"].Value,
            Time = time,
            Method = match.Groups["method"].Value,
            Path = path,
            Department = department,
            Category = category,
            Product = product,
            Status = int.Parse(match.Groups["status"].Value, CultureInfo.InvariantCulture),
            Bytes = bytes == "-" ? 0 : long.Parse(bytes, CultureInfo.InvariantCulture),
            UserAgent = match.Groups["agent"].Value,
            Line = line,
        };
        error = null;
        return true;
    }

    // "24/Nov/2026:10:15:02 -0800": .NET's zzz wants a colon in the offset, so the offset is read by hand.
    private static bool TryParseTime(string text, out DateTimeOffset time)
    {
        time = default;
        var space = text.LastIndexOf(' ');
        if (space < 0) return false;
        var offsetText = text[(space + 1)..];
        if (offsetText.Length != 5 || offsetText[0] is not ('+' or '-')
            || !int.TryParse(offsetText.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(offsetText.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
            || hours > 14 || minutes > 59)
        {
            return false;
        }
        if (!DateTime.TryParseExact(text[..space], AccessLogGenerator.TimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.None, out var clock))
        {
            return false;
        }
        var offset = new TimeSpan(hours, minutes, 0);
        time = new DateTimeOffset(clock, offsetText[0] == '-' ? -offset : offset);
        return true;
    }
}
