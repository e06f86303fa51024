using System.Globalization;
using System.Text;

namespace PSKafka.Cmdlets;

/// <summary>
/// Produces web-shop traffic as Apache combined log lines, with gen_logs' model: a pool of visitor
/// sessions, a weighted request mix over the catalogue, weighted statuses and 2014 user agents.
/// Not thread-safe: one generator per writer.
/// </summary>
public sealed class AccessLogGenerator
{
    public const int ConcurrentSessions = 100;
    public const int RequestsPerSession = 10;

    /// <summary>gen_logs writes every time stamp at -0800, whatever the machine's zone.</summary>
    public static readonly TimeSpan LogOffset = TimeSpan.FromHours(-8);

    public const string TimeFormat = "dd/MMM/yyyy:HH:mm:ss";

    // Request templates and their weights; {0} is a department, category or product id.
    internal static readonly (string Template, double Weight)[] RequestMix =
    [
        ("/departments", 40),
        ("/department/{0}/categories", 20),
        ("/department/{0}/products", 10),
        ("/categories/{0}/products", 5),
        ("/product/{0}", 10),
        ("/add_to_cart/{0}", 5),
        ("/login", 5),
        ("/logout", 2),
        ("/checkout", 3),
        ("/support", 1),
    ];

    internal static readonly (int Status, double Weight)[] StatusMix = [(200, 92), (404, 5), (503, 3)];

    public const int MinBytes = 192;
    public const int MaxBytes = 2239;

    // Browsers of mid-2014 (Chrome 35/36, Firefox 30, Safari 7, IE 11), commonest first.
    internal static readonly (string UserAgent, double Weight)[] UserAgentMix =
    [
        ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36", 11),
        ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:30.0) Gecko/20100101 Firefox/30.0", 10),
        ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36", 9),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.77.4 (KHTML, like Gecko) Version/7.0.5 Safari/537.77.4", 8),
        ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", 7),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36", 6),
        ("Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36", 5),
        ("Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0) like Gecko", 4),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:30.0) Gecko/20100101 Firefox/30.0", 4),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36", 3),
        ("Mozilla/5.0 (Windows NT 6.3; WOW64; rv:30.0) Gecko/20100101 Firefox/30.0", 3),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53", 2),
        ("Mozilla/5.0 (iPad; CPU OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53", 2),
        ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:30.0) Gecko/20100101 Firefox/30.0", 1),
        ("Mozilla/5.0 (Windows NT 6.2; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36", 1),
        ("Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko", 1),
    ];

    private readonly Random _random;
    private readonly TimeProvider _clock;
    private readonly SportsCatalogue _catalogue;
    private readonly WeightedChoice<string> _requests;
    private readonly WeightedChoice<int> _statuses;
    private readonly WeightedChoice<string> _userAgents;
    private readonly WeightedChoice<Product> _products;
    private readonly VisitorSessions _sessions;

    /// <param name="seed">Fixes the random choices (not the clock) for reproducible output.</param>
    /// <param name="clock">Source of "now"; the system clock unless a test supplies one.</param>
    public AccessLogGenerator(int? seed = null, TimeProvider? clock = null, SportsCatalogue? catalogue = null)
    {
        _random = seed is int s ? new Random(s) : new Random();
        _clock = clock ?? TimeProvider.System;
        _catalogue = catalogue ?? SportsCatalogue.Default;
        _requests = new WeightedChoice<string>(RequestMix);
        _statuses = new WeightedChoice<int>(StatusMix);
        _userAgents = new WeightedChoice<string>(UserAgentMix);
        // Cheap products are looked at more: weight 5000 / price, as gen_logs does.
        _products = new WeightedChoice<Product>(_catalogue.Products.Select(p => (p, 5000 / (double)p.Price)));
        _sessions = new VisitorSessions(_random, ConcurrentSessions, RequestsPerSession);
    }

    /// <summary>The next log line, without a line terminator.</summary>
    public string NextLine()
    {
        var ip = _sessions.NextAddress();
        var request = NextRequest();
        var status = _statuses.Pick(_random);
        var bytes = _random.Next(MinBytes, MaxBytes + 1);
        var userAgent = _userAgents.Pick(_random);
        return FormatLine(ip, _clock.GetUtcNow(), request, status, bytes, userAgent);
    }

    /// <summary>A request path: a template from the mix filled from the catalogue, lower-cased and URL-quoted.</summary>
    internal string NextRequest()
    {
        var template = _requests.Pick(_random);
        string? value = template switch
        {
            "/department/{0}/categories" or "/department/{0}/products" =>
                _catalogue.Departments[_random.Next(_catalogue.Departments.Count)].Name,
            "/categories/{0}/products" => _catalogue.Categories[_random.Next(_catalogue.Categories.Count)].Name,
            "/product/{0}" or "/add_to_cart/{0}" => _products.Pick(_random).Id.ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
        var path = value is null ? template : string.Format(CultureInfo.InvariantCulture, template, value);
        return PythonUrlQuote(path.ToLowerInvariant());
    }

    public static string FormatLine(string ip, DateTimeOffset time, string request, int status, int bytes, string userAgent)
    {
        var local = time.ToOffset(LogOffset);
        var stamp = local.ToString(TimeFormat, CultureInfo.InvariantCulture);
        return $"{ip} - - [{stamp} -0800] \"GET {request} HTTP/1.1\" {status} {bytes} \"-\" \"{userAgent}\"";
    }

    /// <summary>
    /// Python's urllib quote with its default safe '/': letters, digits, '_.-~' and '/' stay,
    /// every other UTF-8 byte becomes %XX (so ' ' → %20, '&amp;' → %26, '\'' → %27).
    /// </summary>
    public static string PythonUrlQuote(string text)
    {
        var builder = new StringBuilder(text.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '~' or '/')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }
}

/// <summary>Picks items in proportion to their weights (cumulative sums + binary search).</summary>
internal sealed class WeightedChoice<T>
{
    private readonly T[] _items;
    private readonly double[] _cumulative;

    public WeightedChoice(IEnumerable<(T Item, double Weight)> weighted)
    {
        var items = new List<T>();
        var cumulative = new List<double>();
        var total = 0.0;
        foreach (var (item, weight) in weighted)
        {
            if (weight <= 0) continue;
            total += weight;
            items.Add(item);
            cumulative.Add(total);
        }
        if (items.Count == 0) throw new ArgumentException("At least one item needs a positive weight.", nameof(weighted));
        _items = [.. items];
        _cumulative = [.. cumulative];
    }

    public T Pick(Random random)
    {
        var target = random.NextDouble() * _cumulative[^1];
        var index = Array.BinarySearch(_cumulative, target);
        // Not found gives the complement of the first larger sum, which is the bucket target falls in.
        index = index < 0 ? ~index : index + 1;
        return _items[Math.Min(index, _items.Length - 1)];
    }
}

/// <summary>
/// gen_logs' visitors: a fixed number of open sessions, each request goes to a random one, and a
/// session that has made its quota of requests leaves and is replaced by a new address.
/// </summary>
internal sealed class VisitorSessions
{
    private readonly Random _random;
    private readonly int _requestsPerSession;
    private readonly List<(string Address, int Requests)> _open;
    private readonly HashSet<string> _addresses = [];

    public VisitorSessions(Random random, int concurrent, int requestsPerSession)
    {
        _random = random;
        _requestsPerSession = requestsPerSession;
        _open = new List<(string, int)>(concurrent);
        for (var i = 0; i < concurrent; i++) _open.Add((NewAddress(), 0));
    }

    public string NextAddress()
    {
        var index = _random.Next(_open.Count);
        var (address, requests) = _open[index];
        requests++;
        if (requests >= _requestsPerSession)
        {
            _addresses.Remove(address);
            _open[index] = (NewAddress(), 0);
        }
        else
        {
            _open[index] = (address, requests);
        }
        return address;
    }

    // Unicast-looking address: first octet 1-223 (no 0.x, multicast or reserved). Unique among open sessions.
    private string NewAddress()
    {
        while (true)
        {
            var address = string.Create(CultureInfo.InvariantCulture,
                $"{_random.Next(1, 224)}.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(256)}");
            if (_addresses.Add(address)) return address;
        }
    }
}
