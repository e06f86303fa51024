using PSKafka.Cmdlets;

namespace PSKafka.Tests.Traffic;

public sealed class AccessLogParserTests
{
    [Fact]
    public void Parses_a_category_request()
    {
        const string line = "87.244.9.34 - - [24/Nov/2026:10:15:02 -0800] \"GET /categories/baseball%20%26%20softball/products HTTP/1.1\" 404 1042 \"-\" \"Mozilla/5.0 (Windows NT 6.1; WOW64; rv:30.0) Gecko/20100101 Firefox/30.0\"";
        Assert.True(AccessLogParser.TryParse(line, out var entry, out var error), error);
        Assert.NotNull(entry);
        Assert.Equal("87.244.9.34", entry.IPAddress);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 10, 15, 2, TimeSpan.FromHours(-8)), entry.Time);
        Assert.Equal(TimeSpan.FromHours(-8), entry.Time.Offset);
        Assert.Equal("GET", entry.Method);
        Assert.Equal("/categories/baseball%20%26%20softball/products", entry.Path);
        Assert.Equal("baseball & softball", entry.Category);
        Assert.Null(entry.Department);
        Assert.Null(entry.Product);
        Assert.Equal(404, entry.Status);
        Assert.Equal(1042, entry.Bytes);
        Assert.Equal("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:30.0) Gecko/20100101 Firefox/30.0", entry.UserAgent);
        Assert.Equal(line, entry.Line);
    }

    [Theory]
    [InlineData("/department/men%27s%20footwear/categories", "men's footwear", null)]
    [InlineData("/product/417", null, "417")]
    [InlineData("/add_to_cart/9", null, "9")]
    [InlineData("/departments", null, null)]
    public void Takes_department_and_product_from_the_path(string path, string? department, string? product)
    {
        var line = $"1.2.3.4 - - [01/Jan/2027:00:00:00 -0800] \"GET {path} HTTP/1.1\" 200 300 \"-\" \"x\"";
        Assert.True(AccessLogParser.TryParse(line, out var entry, out _));
        Assert.Equal(department, entry!.Department);
        Assert.Equal(product, entry.Product);
    }

    [Fact]
    public void Parses_every_generated_line()
    {
        var generator = new AccessLogGenerator(seed: 1);
        for (var i = 0; i < 5_000; i++)
        {
            var line = generator.NextLine();
            Assert.True(AccessLogParser.TryParse(line, out var entry, out var error), $"{error}: {line}");
            Assert.Equal(TimeSpan.FromHours(-8), entry!.Time.Offset);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a log line")]
    [InlineData("1.2.3.4 - - [24/Nov/2026:10:15:02 -0800] \"GET /x HTTP/1.1\" 200 12")]
    [InlineData("1.2.3.4 - - [31/Foo/2026:10:15:02 -0800] \"GET /x HTTP/1.1\" 200 12 \"-\" \"a\"")]
    [InlineData("1.2.3.4 - - [24/Nov/2026:10:15:02 0800] \"GET /x HTTP/1.1\" 200 12 \"-\" \"a\"")]
    public void Rejects_malformed_lines_with_a_reason(string line)
    {
        Assert.False(AccessLogParser.TryParse(line, out var entry, out var error));
        Assert.Null(entry);
        Assert.False(string.IsNullOrEmpty(error));
    }
}
