using System.Globalization;

namespace PSKafka.Engine.Config;

/// <summary>
/// The values in effect for config keys, as validated strings by name: what the typed settings (LogConfig,
/// GroupCoordinatorConfig, KafkaServerOptions, ...) are built from, like Kafka's AbstractConfig.
/// </summary>
public interface IConfigValues
{
    /// <summary>The value in effect, or null for a key that has none and no default (log.dirs, log.retention.ms).</summary>
    string? Get(string name);
}

/// <summary>Typed reads of config values, checked against the key's definition, and the usual sets of values.</summary>
public static class ConfigValues
{
    /// <summary>Kafka's default of every topic and broker key.</summary>
    public static IConfigValues Defaults { get; } = new Layers([]);

    /// <summary>Each key from the first layer that holds it, else its default.</summary>
    public static IConfigValues Layered(params IReadOnlyDictionary<string, string>?[] layers) => new Layers(layers);

    public static int Int(this IConfigValues values, string name) =>
        int.Parse(Require(values, name, ConfigType.Int), CultureInfo.InvariantCulture);

    public static long Long(this IConfigValues values, string name) =>
        long.Parse(Require(values, name, ConfigType.Long, ConfigType.Int), CultureInfo.InvariantCulture);

    public static double Double(this IConfigValues values, string name) =>
        double.Parse(Require(values, name, ConfigType.Double), CultureInfo.InvariantCulture);

    public static bool Bool(this IConfigValues values, string name) => Require(values, name, ConfigType.Boolean) == "true";

    public static string String(this IConfigValues values, string name) => Require(values, name, ConfigType.String, ConfigType.List);

    // A typed read of a key of another type, or of one without a value, is a mistake in the code that reads it.
    private static string Require(IConfigValues values, string name, params ConfigType[] types)
    {
        var definition = ConfigDefinitions.Get(name);
        if (!types.Contains(definition.Type))
            throw new InvalidOperationException($"{name} is of type {definition.Type}, not {string.Join(" or ", types)}.");
        return values.Get(name) ?? throw new InvalidOperationException($"{name} has no value and no default.");
    }

    private sealed class Layers(IReadOnlyDictionary<string, string>?[] layers) : IConfigValues
    {
        public string? Get(string name)
        {
            foreach (var layer in layers)
                if (layer is not null && layer.TryGetValue(name, out var value)) return value;
            return ConfigDefinitions.Get(name).Default;
        }
    }
}
