using System.Text.Json;

namespace PSKafka.ProtocolGen;

/// <summary>An inclusive version range; Min &gt; Max means "no versions".</summary>
public readonly record struct VersionRange(short Min, short Max)
{
    public static readonly VersionRange None = new(1, 0);

    public bool IsEmpty => Min > Max;

    public bool Contains(short version) => version >= Min && version <= Max;

    /// <summary>Parses "none", "3", "3-7" or "3+" ("+" runs to <paramref name="highest"/>).</summary>
    public static VersionRange Parse(string? text, short highest)
    {
        if (text is null || text == "none") return None;
        if (text.EndsWith('+')) return new(short.Parse(text[..^1]), highest);
        int dash = text.IndexOf('-');
        if (dash < 0) { var v = short.Parse(text); return new(v, v); }
        return new(short.Parse(text[..dash]), short.Parse(text[(dash + 1)..]));
    }

    public VersionRange Intersect(VersionRange other)
    {
        var r = new VersionRange(Math.Max(Min, other.Min), Math.Min(Max, other.Max));
        return r.IsEmpty ? None : r;
    }

    public override string ToString() => IsEmpty ? "none" : Min == Max ? $"{Min}" : $"{Min}-{Max}";
}

public enum Primitive { Int8, Int16, UInt16, Int32, Int64, Float64, Bool, String, Bytes, Records, Uuid, Struct }

public sealed class FieldSpec
{
    public required string Name { get; init; }
    public required Primitive Type { get; init; }
    /// <summary>Struct type name when <see cref="Type"/> is Struct.</summary>
    public string? StructName { get; init; }
    public bool IsArray { get; init; }
    public required VersionRange Versions { get; init; }
    public VersionRange NullableVersions { get; init; } = VersionRange.None;
    public int? Tag { get; init; }
    public bool Ignorable { get; init; }
    /// <summary>False forces classic (non-compact) encoding even in flexible versions.</summary>
    public bool Compact { get; init; } = true;
    /// <summary>Null when the definition gives no default; JsonValueKind.Null for an explicit null.</summary>
    public JsonElement? Default { get; init; }
    /// <summary>What the field means; every field has one, as in Kafka's schemas.</summary>
    public required string About { get; init; }
    public List<FieldSpec> Fields { get; init; } = [];

    public bool IsNullableSomewhere => !NullableVersions.IsEmpty;
}

/// <summary>A request, response or header: one generated class.</summary>
public sealed class MessageSpec
{
    public required string Name { get; init; }
    public required string Kind { get; init; } // request | response | header
    public short? ApiKey { get; init; }
    public string? ApiName { get; init; }
    public required VersionRange ValidVersions { get; init; }
    public required VersionRange FlexibleVersions { get; init; }
    public required List<FieldSpec> Fields { get; init; }
}

/// <summary>Reads our definition files (see Messages/README.md).</summary>
public static class SpecReader
{
    static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static List<MessageSpec> ReadDirectory(string dir)
    {
        var specs = new List<MessageSpec>();
        foreach (var file in Directory.GetFiles(dir, "*.json").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal))
            specs.AddRange(ReadFile(File.ReadAllText(file), Path.GetFileName(file)));
        return specs;
    }

    public static IEnumerable<MessageSpec> ReadFile(string json, string fileName)
    {
        using var doc = JsonDocument.Parse(json, Options);
        var root = doc.RootElement;
        if (root.TryGetProperty("headers", out var headers))
        {
            foreach (var h in headers.EnumerateArray())
            {
                var valid = ParseValid(h.GetProperty("validVersions").GetString()!, fileName);
                yield return new MessageSpec
                {
                    Name = h.GetProperty("name").GetString()!,
                    Kind = "header",
                    ValidVersions = valid,
                    FlexibleVersions = VersionRange.Parse(h.GetProperty("flexibleVersions").GetString(), valid.Max),
                    Fields = ReadFields(h.GetProperty("fields"), valid, fileName),
                };
            }
            yield break;
        }

        var api = root.GetProperty("api").GetString()!;
        var validVersions = ParseValid(root.GetProperty("validVersions").GetString()!, fileName);
        var flexible = VersionRange.Parse(root.GetProperty("flexibleVersions").GetString(), validVersions.Max);
        foreach (var kind in new[] { "request", "response" })
        {
            yield return new MessageSpec
            {
                Name = api + char.ToUpperInvariant(kind[0]) + kind[1..],
                Kind = kind,
                ApiKey = root.GetProperty("apiKey").GetInt16(),
                ApiName = api,
                ValidVersions = validVersions,
                FlexibleVersions = flexible,
                Fields = ReadFields(root.GetProperty(kind).GetProperty("fields"), validVersions, fileName),
            };
        }
    }

    static VersionRange ParseValid(string text, string fileName)
    {
        var r = VersionRange.Parse(text, short.MaxValue);
        if (r.IsEmpty || r.Max == short.MaxValue) throw new FormatException($"{fileName}: validVersions must be a closed range like 0-9");
        return r;
    }

    static List<FieldSpec> ReadFields(JsonElement array, VersionRange valid, string fileName)
    {
        var list = new List<FieldSpec>();
        foreach (var f in array.EnumerateArray())
        {
            var name = f.GetProperty("name").GetString()!;
            var typeText = f.GetProperty("type").GetString()!;
            bool isArray = typeText.EndsWith("[]", StringComparison.Ordinal);
            var baseType = isArray ? typeText[..^2] : typeText;
            var prim = baseType switch
            {
                "int8" => Primitive.Int8,
                "int16" => Primitive.Int16,
                "uint16" => Primitive.UInt16,
                "int32" => Primitive.Int32,
                "int64" => Primitive.Int64,
                "float64" => Primitive.Float64,
                "bool" => Primitive.Bool,
                "string" => Primitive.String,
                "bytes" => Primitive.Bytes,
                "records" => Primitive.Records,
                "uuid" => Primitive.Uuid,
                _ when char.IsUpper(baseType[0]) => Primitive.Struct,
                _ => throw new FormatException($"{fileName}: field {name} has unknown type {typeText}"),
            };
            if (prim == Primitive.Struct != f.TryGetProperty("fields", out _))
                throw new FormatException($"{fileName}: field {name}: struct types and only they have \"fields\"");
            if (isArray && prim is Primitive.Bytes or Primitive.Records)
                throw new FormatException($"{fileName}: field {name}: arrays of {baseType} are not supported");
            var versions = VersionRange.Parse(f.GetProperty("versions").GetString(), valid.Max).Intersect(valid);
            var spec = new FieldSpec
            {
                Name = name,
                Type = prim,
                StructName = prim == Primitive.Struct ? baseType : null,
                IsArray = isArray,
                Versions = versions,
                NullableVersions = f.TryGetProperty("nullable", out var n) ? VersionRange.Parse(n.GetString(), valid.Max).Intersect(versions) : VersionRange.None,
                Tag = f.TryGetProperty("tag", out var t) ? t.GetInt32() : null,
                Ignorable = f.TryGetProperty("ignorable", out var ig) && ig.GetBoolean(),
                Compact = !f.TryGetProperty("compact", out var c) || c.GetBoolean(),
                Default = f.TryGetProperty("default", out var d) ? d.Clone() : null,
                About = f.TryGetProperty("about", out var a) && a.GetString() is { Length: > 0 } about ? about
                    : throw new FormatException($"{fileName}: field {name} has no \"about\""),
                Fields = prim == Primitive.Struct ? ReadFields(f.GetProperty("fields"), valid, fileName) : [],
            };
            if (versions.IsEmpty) throw new FormatException($"{fileName}: field {name} is in no valid version");
            if (spec.IsNullableSomewhere && !(isArray || prim is Primitive.String or Primitive.Bytes or Primitive.Records))
                throw new FormatException($"{fileName}: field {name}: only strings, bytes, records and arrays can be nullable");
            if (spec.Tag is not null && !isArray && prim == Primitive.Struct && spec.IsNullableSomewhere)
                throw new FormatException($"{fileName}: field {name}: tagged structs are already optional");
            list.Add(spec);
        }
        var dup = list.GroupBy(x => x.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new FormatException($"{fileName}: duplicate field {dup.Key}");
        var dupTag = list.Where(x => x.Tag is not null).GroupBy(x => x.Tag).FirstOrDefault(g => g.Count() > 1);
        if (dupTag is not null) throw new FormatException($"{fileName}: duplicate tag {dupTag.Key}");
        return list;
    }
}
