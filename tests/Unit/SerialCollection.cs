namespace PSKafka.Tests;

/// <summary>
/// Tests that measure the whole process (memory, timing) run alone, after the parallel ones, so
/// other tests' allocations and CPU do not count against them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (measures the process)";
}
