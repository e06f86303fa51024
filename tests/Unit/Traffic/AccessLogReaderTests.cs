using PSKafka.Cmdlets;

namespace PSKafka.Tests.Traffic;

public sealed class AccessLogReaderTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"pskafka-reader-{Guid.NewGuid():N}.log");

    public void Dispose() => File.Delete(_path);

    [Theory]
    [InlineData("a\nb\nc\n", 2, new[] { "b", "c" })]
    [InlineData("a\nb\nc", 2, new[] { "b", "c" })]
    [InlineData("a\nb\nc\n", 10, new[] { "a", "b", "c" })]
    [InlineData("a\nb\nc\n", 0, new string[0])]
    [InlineData("a\r\nb\r\n", 1, new[] { "b" })]
    public void Reads_the_last_lines(string content, int tail, string[] expected)
    {
        File.WriteAllText(_path, content);
        using var reader = new AccessLogReader(_path);
        reader.SeekToLastLines(tail);
        Assert.Equal(expected, reader.ReadAvailableLines(includeUnterminated: true).ToArray());
    }

    [Fact]
    public void Holds_back_a_half_written_line_until_its_newline_arrives()
    {
        File.WriteAllText(_path, "one\ntw");
        using var reader = new AccessLogReader(_path);
        Assert.Equal(["one"], reader.ReadAvailableLines(includeUnterminated: false).ToArray());
        File.AppendAllText(_path, "o\nthree\n");
        Assert.Equal(["two", "three"], reader.ReadAvailableLines(includeUnterminated: false).ToArray());
        Assert.Empty(reader.ReadAvailableLines(includeUnterminated: false));
    }

    [Fact]
    public void Starts_again_when_the_file_is_truncated()
    {
        File.WriteAllText(_path, "old line one\nold line two\n");
        using var reader = new AccessLogReader(_path);
        Assert.Equal(2, reader.ReadAvailableLines(false).Count());
        File.WriteAllText(_path, "new\n");
        Assert.Equal(["new"], reader.ReadAvailableLines(false).ToArray());
    }

    [Fact]
    public void Finds_the_tail_of_a_file_larger_than_one_read()
    {
        File.WriteAllLines(_path, Enumerable.Range(1, 20_000).Select(i => $"line {i}"));
        using var reader = new AccessLogReader(_path);
        reader.SeekToLastLines(3);
        Assert.Equal(["line 19998", "line 19999", "line 20000"], reader.ReadAvailableLines(true).ToArray());
    }
}
