using PSKafka.ProtocolGen;

// Usage: PSKafka.ProtocolGen [messagesDir] [outputDir]; defaults are found from the repository root.
var root = FindRepoRoot(AppContext.BaseDirectory) ?? FindRepoRoot(Directory.GetCurrentDirectory())
    ?? throw new InvalidOperationException("cannot find PSKafka.sln above the current directory");
var input = args.Length > 0 ? args[0] : Path.Combine(root, "src", "PSKafka.Engine", "Protocol", "Messages");
var output = args.Length > 1 ? args[1] : Path.Combine(root, "src", "PSKafka.Engine", "Protocol", "Generated");

var files = CodeGen.GenerateAll(SpecReader.ReadDirectory(input));
Directory.CreateDirectory(output);
foreach (var stale in Directory.GetFiles(output, "*.g.cs").Where(f => !files.ContainsKey(Path.GetFileName(f))))
    File.Delete(stale);
foreach (var (name, text) in files)
    File.WriteAllText(Path.Combine(output, name), text);
Console.WriteLine($"wrote {files.Count} files to {output}");

static string? FindRepoRoot(string start)
{
    for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "PSKafka.sln"))) return d.FullName;
    return null;
}
