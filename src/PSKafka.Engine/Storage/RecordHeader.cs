using System.Text;

namespace PSKafka.Engine.Storage;

/// <summary>A record header: a UTF-8 name and a value that may be null (distinct from empty).</summary>
public readonly struct RecordHeader
{
    public RecordHeader(string key, byte[]? value)
    {
        Key = key;
        Value = value;
        IsValueNull = value is null;
    }

    public RecordHeader(string key, ReadOnlyMemory<byte> value, bool isValueNull = false)
    {
        Key = key;
        Value = value;
        IsValueNull = isValueNull;
    }

    public string Key { get; }
    public ReadOnlyMemory<byte> Value { get; }
    public bool IsValueNull { get; }

    /// <summary>The value as a new array, or null.</summary>
    public byte[]? ValueArray => IsValueNull ? null : Value.ToArray();

    public override string ToString() => IsValueNull ? $"{Key}=null" : $"{Key}={Encoding.UTF8.GetString(Value.Span)}";
}
