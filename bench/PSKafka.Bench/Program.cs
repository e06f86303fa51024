using PSKafka.Bench;

// Suites by name; add new ones here. Each prints Markdown table rows; build.ps1 writes the table header.
IBenchSuite[] suites = [new EngineSuite(), new ReplicationSuite(), new WireSuite(), new GroupsSuite(), new ConsoleSuite()];

// `chart <csv> <png> <title>`: the soak benchmark's chart (bench/Soak.Bench.ps1 samples, drawn with ScottPlot).
if (args is ["chart", var csv, var png, var title]) return SoakChart.Draw(csv, png, title);

var wanted = args.Length == 0 ? suites.Select(s => s.Name).ToArray() : args;
foreach (var name in wanted)
{
    var suite = suites.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
    if (suite is null)
    {
        Console.Error.WriteLine($"Unknown suite '{name}'. Known: {string.Join(", ", suites.Select(s => s.Name))}");
        return 2;
    }
    suite.Run(Console.Out);
}
return 0;
