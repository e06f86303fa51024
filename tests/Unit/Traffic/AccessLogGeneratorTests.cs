using System.Globalization;
using System.Text.RegularExpressions;
using PSKafka.Cmdlets;

namespace PSKafka.Tests.Traffic;

/// <summary>Distributions and format of the generated traffic, over one fixed-seed sample.</summary>
public sealed partial class AccessLogGeneratorTests
{
    private const int SampleSize = 100_000;

    // Apache combined format exactly as gen_logs writes it.
    [GeneratedRegex("""^(?<ip>\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}) - - \[(?<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} -0800)\] "GET (?<request>/[a-z0-9/%._~-]*) HTTP/1\.1" (?<status>200|404|503) (?<bytes>\d+) "-" "(?<agent>[^"]+)"$""")]
    private static partial Regex CombinedLine();

    private static readonly Lazy<List<Match>> Sample = new(() =>
    {
        var generator = new AccessLogGenerator(seed: 42, clock: new FixedClock(new DateTimeOffset(2026, 11, 24, 18, 15, 2, TimeSpan.Zero)));
        var matches = new List<Match>(SampleSize);
        for (var i = 0; i < SampleSize; i++)
        {
            var line = generator.NextLine();
            var match = CombinedLine().Match(line);
            Assert.True(match.Success, $"Line {i} is not in combined format: {line}");
            matches.Add(match);
        }
        return matches;
    });

    private static double Share(Func<Match, bool> predicate) => Sample.Value.Count(predicate) / (double)SampleSize;

    [Fact]
    public void Lines_are_in_combined_format_with_the_time_at_minus_0800()
    {
        Assert.All(Sample.Value, m => Assert.Equal("24/Nov/2026:10:15:02 -0800", m.Groups["time"].Value));
    }

    [Theory]
    [InlineData(@"^/departments$", 40)]
    [InlineData(@"^/department/[^/]+/categories$", 20)]
    [InlineData(@"^/department/[^/]+/products$", 10)]
    [InlineData(@"^/categories/[^/]+/products$", 5)]
    [InlineData(@"^/product/\d+$", 10)]
    [InlineData(@"^/add_to_cart/\d+$", 5)]
    [InlineData(@"^/login$", 5)]
    [InlineData(@"^/logout$", 2)]
    [InlineData(@"^/checkout$", 3)]
    [InlineData(@"^/support$", 1)]
    public void Request_mix_follows_the_weights(string pattern, double weight)
    {
        var regex = new Regex(pattern);
        var share = Share(m => regex.IsMatch(m.Groups["request"].Value));
        Assert.InRange(share, weight / 101 - 0.006, weight / 101 + 0.006);
    }

    [Theory]
    [InlineData(200, 0.92)]
    [InlineData(404, 0.05)]
    [InlineData(503, 0.03)]
    public void Status_mix_is_92_5_3(int status, double expected)
    {
        var share = Share(m => m.Groups["status"].Value == status.ToString(CultureInfo.InvariantCulture));
        Assert.InRange(share, expected - 0.005, expected + 0.005);
    }

    [Fact]
    public void Bytes_are_uniform_between_192_and_2239()
    {
        var bytes = Sample.Value.Select(m => int.Parse(m.Groups["bytes"].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(192, bytes.Min());
        Assert.Equal(2239, bytes.Max());
        Assert.InRange(bytes.Average(), (192 + 2239) / 2.0 - 10, (192 + 2239) / 2.0 + 10);
    }

    [Fact]
    public void Addresses_have_a_first_octet_of_1_to_223()
    {
        var octets = Sample.Value.Select(m => m.Groups["ip"].Value.Split('.').Select(int.Parse).ToArray()).ToList();
        Assert.All(octets, o => Assert.InRange(o[0], 1, 223));
        Assert.All(octets, o => Assert.All(o[1..], x => Assert.InRange(x, 0, 255)));
        Assert.Equal(1, octets.Min(o => o[0]));
        Assert.Equal(223, octets.Max(o => o[0]));
    }

    [Fact]
    public void Visitors_make_sessions_of_10_requests_with_100_open_at_a_time()
    {
        var perAddress = Sample.Value.GroupBy(m => m.Groups["ip"].Value).ToDictionary(g => g.Key, g => g.Count());
        // Every session that ended made exactly 10 requests; only the 100 still open at the end made fewer.
        Assert.All(perAddress.Values, count => Assert.InRange(count, 1, 10));
        var unfinished = perAddress.Values.Count(c => c < 10);
        Assert.InRange(unfinished, 1, AccessLogGenerator.ConcurrentSessions);
        Assert.Equal(SampleSize, perAddress.Values.Sum());

        // At most 100 sessions are open at any time.
        var firstSeen = new Dictionary<string, int>();
        var lastSeen = new Dictionary<string, int>();
        for (var i = 0; i < Sample.Value.Count; i++)
        {
            var ip = Sample.Value[i].Groups["ip"].Value;
            firstSeen.TryAdd(ip, i);
            lastSeen[ip] = i;
        }
        var open = new int[SampleSize + 1];
        foreach (var (ip, first) in firstSeen)
        {
            open[first]++;
            open[lastSeen[ip] + 1]--;
        }
        var running = 0;
        var maxOpen = 0;
        foreach (var delta in open) maxOpen = Math.Max(maxOpen, running += delta);
        Assert.Equal(AccessLogGenerator.ConcurrentSessions, maxOpen);
    }

    [Fact]
    public void Products_are_requested_in_proportion_to_5000_over_price()
    {
        var catalogue = SportsCatalogue.Default;
        var productRequests = Sample.Value
            .Select(m => Regex.Match(m.Groups["request"].Value, @"^/(?:product|add_to_cart)/(\d+)$"))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .ToList();
        var prices = catalogue.Products.ToDictionary(p => p.Id, p => p.Price);
        Assert.All(productRequests, id => Assert.True(prices.ContainsKey(id), $"Unknown product {id}"));

        // Share of requests for products under $50, against the share their weights predict.
        var totalWeight = catalogue.Products.Sum(p => 5000 / (double)p.Price);
        var cheapWeight = catalogue.Products.Where(p => p.Price < 50).Sum(p => 5000 / (double)p.Price);
        var cheapShare = productRequests.Count(id => prices[id] < 50) / (double)productRequests.Count;
        Assert.InRange(cheapShare, cheapWeight / totalWeight - 0.02, cheapWeight / totalWeight + 0.02);
    }

    [Fact]
    public void Departments_and_categories_are_chosen_uniformly_and_quoted()
    {
        var catalogue = SportsCatalogue.Default;
        var departments = catalogue.Departments.ToDictionary(d => AccessLogGenerator.PythonUrlQuote(d.Name.ToLowerInvariant()), _ => 0);
        var categories = catalogue.Categories.ToDictionary(c => AccessLogGenerator.PythonUrlQuote(c.Name.ToLowerInvariant()), _ => 0);
        foreach (var request in Sample.Value.Select(m => m.Groups["request"].Value))
        {
            var parts = request.Split('/');
            if (parts[1] == "department") departments[parts[2]]++;
            if (parts[1] == "categories") categories[parts[2]]++;
        }
        var perDepartment = departments.Values.Average();
        Assert.All(departments.Values, n => Assert.InRange(n, perDepartment * 0.9, perDepartment * 1.1));
        var perCategory = categories.Values.Average();
        Assert.All(categories.Values, n => Assert.InRange(n, perCategory * 0.6, perCategory * 1.4));
        Assert.Contains("baseball%20%26%20softball", categories.Keys);
        Assert.Contains("men%27s%20running%20shoes", categories.Keys);
    }

    [Fact]
    public void User_agents_are_16_browsers_of_2014_weighted_11_down_to_1()
    {
        var weights = AccessLogGenerator.UserAgentMix.Select(u => u.Weight).ToList();
        Assert.Equal(16, weights.Count);
        Assert.Equal(11, weights[0]);
        Assert.Equal(1, weights[^1]);
        Assert.Equal(weights.OrderByDescending(w => w), weights);
        Assert.All(AccessLogGenerator.UserAgentMix, u =>
            Assert.Matches(@"Chrome/3[56]\.|Firefox/30\.0|Version/7\.0.* Safari/|Trident/7\.0; rv:11\.0", u.UserAgent));

        var total = weights.Sum();
        var agents = Sample.Value.GroupBy(m => m.Groups["agent"].Value).ToDictionary(g => g.Key, g => g.Count() / (double)SampleSize);
        Assert.Equal(16, agents.Count);
        foreach (var (agent, weight) in AccessLogGenerator.UserAgentMix)
        {
            Assert.InRange(agents[agent], weight / total - 0.006, weight / total + 0.006);
        }
    }

    [Theory]
    [InlineData("baseball & softball", "baseball%20%26%20softball")]
    [InlineData("men's running shoes", "men%27s%20running%20shoes")]
    [InlineData("/department/team sports/products", "/department/team%20sports/products")]
    [InlineData("a-b_c.d~e/f", "a-b_c.d~e/f")]
    [InlineData("café+50%", "caf%C3%A9%2B50%25")]
    public void Quoting_matches_Python_urllib_quote(string text, string expected)
    {
        Assert.Equal(expected, AccessLogGenerator.PythonUrlQuote(text));
    }

    [Fact]
    public void The_same_seed_and_clock_give_the_same_lines()
    {
        var clock = new FixedClock(DateTimeOffset.UnixEpoch);
        var a = new AccessLogGenerator(7, clock);
        var b = new AccessLogGenerator(7, clock);
        Assert.Equal(Enumerable.Range(0, 500).Select(_ => a.NextLine()), Enumerable.Range(0, 500).Select(_ => b.NextLine()));
    }

    [Fact]
    public void Catalogue_has_7_departments_58_categories_and_1000_priced_products()
    {
        var catalogue = SportsCatalogue.Default;
        Assert.Equal(7, catalogue.Departments.Count);
        Assert.Equal(58, catalogue.Categories.Count);
        Assert.Equal(1000, catalogue.Products.Count);
        Assert.Equal(1000, catalogue.Products.Select(p => p.Id).Distinct().Count());
        Assert.Equal(58, catalogue.Categories.Select(c => c.Name).Distinct().Count());
        Assert.All(catalogue.Products, p => Assert.InRange(p.Price, 1m, 5000m));
        Assert.All(catalogue.Categories, c => Assert.Contains(catalogue.Products, p => p.Category == c));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
