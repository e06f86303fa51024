using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using System.Text.Json;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// Message values as bytes: text as UTF-8, bytes as they are, any other object as JSON (the shape
/// ConvertTo-Json gives, enums as names); and JSON back into PowerShell objects.
/// </summary>
public static class JsonValue
{
    public const int MaxDepth = 8;

    public static byte[]? ToBytes(object? value)
    {
        value = Unwrap(value);
        return value switch
        {
            null => null,
            string s => Encoding.UTF8.GetBytes(s),
            byte[] b => b,
            char c => Encoding.UTF8.GetBytes(c.ToString()),
            _ => SerializeToUtf8(value),
        };
    }

    /// <summary>A key: text as UTF-8, bytes as they are, numbers and others as their invariant text.</summary>
    public static byte[]? KeyToBytes(object? key)
    {
        key = Unwrap(key);
        return key switch
        {
            null => null,
            string s => Encoding.UTF8.GetBytes(s),
            byte[] b => b,
            IFormattable f when IsScalar(key) => Encoding.UTF8.GetBytes(f.ToString(null, CultureInfo.InvariantCulture)),
            _ when IsScalar(key) => Encoding.UTF8.GetBytes(key.ToString() ?? ""),
            _ => SerializeToUtf8(key),
        };
    }

    public static byte[] SerializeToUtf8(object value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, value, 0);
        return buffer.WrittenSpan.ToArray();
    }

    private static object? Unwrap(object? value) =>
        value is PSObject pso && pso.BaseObject is not PSCustomObject ? pso.BaseObject : value;

    private static bool IsScalar(object value) => value is string or char or bool or byte or sbyte or short or ushort or int or uint
        or long or ulong or float or double or decimal or DateTime or DateTimeOffset or Guid or Enum or TimeSpan or Uri or System.Net.IPAddress;

    private static void Write(Utf8JsonWriter w, object? value, int depth)
    {
        value = Unwrap(value);
        switch (value)
        {
            case null: w.WriteNullValue(); return;
            case string s: w.WriteStringValue(s); return;
            case char c: w.WriteStringValue(c.ToString()); return;
            case bool b: w.WriteBooleanValue(b); return;
            case byte or sbyte or short or ushort or int or uint or long: w.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); return;
            case ulong u: w.WriteNumberValue(u); return;
            case float or double:
                var d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsFinite(d)) w.WriteNumberValue(d); else w.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                return;
            case decimal m: w.WriteNumberValue(m); return;
            case DateTime dt: w.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture)); return;
            case DateTimeOffset dto: w.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture)); return;
            case Enum e: w.WriteStringValue(e.ToString()); return;
            case Guid or TimeSpan or Uri or System.Net.IPAddress or Version: w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); return;
        }
        if (depth >= MaxDepth)
        {
            w.WriteStringValue(value.ToString());
            return;
        }
        switch (value)
        {
            case IDictionary dict:
                w.WriteStartObject();
                foreach (DictionaryEntry entry in dict)
                {
                    w.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    Write(w, entry.Value, depth + 1);
                }
                w.WriteEndObject();
                return;
            case IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item, depth + 1);
                w.WriteEndArray();
                return;
        }
        w.WriteStartObject();
        var pso = value as PSObject ?? PSObject.AsPSObject(value);
        foreach (var property in pso.Properties)
        {
            if (property is PSScriptProperty or PSCodeProperty) continue;
            object? v;
            try { v = property.Value; }
            catch (Exception) { continue; } // a property whose getter throws is left out, as ConvertTo-Json does
            w.WritePropertyName(property.Name);
            Write(w, v, depth + 1);
        }
        w.WriteEndObject();
    }

    /// <summary>Parses JSON into PowerShell objects (objects become PSCustomObjects); text that is not JSON is returned as it is.</summary>
    public static object? Parse(string? text)
    {
        if (text is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return FromElement(doc.RootElement);
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static object? FromElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => ToObject(e),
        JsonValueKind.Array => e.EnumerateArray().Select(FromElement).ToArray(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt32(out var i) ? i : e.TryGetInt64(out var l) ? l : e.TryGetDecimal(out var m) ? m : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static PSObject ToObject(JsonElement e)
    {
        var result = new PSObject();
        foreach (var p in e.EnumerateObject())
            result.Properties.Add(new PSNoteProperty(p.Name, FromElement(p.Value)));
        return result;
    }
}
