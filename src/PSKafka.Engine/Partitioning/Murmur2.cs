namespace PSKafka.Engine.Partitioning;

/// <summary>
/// Kafka's 32-bit murmur2 (Utils.murmur2 in the Java client), bit for bit: seed 0x9747b28c,
/// little-endian 4-byte blocks, Java's signed arithmetic with unsigned shifts.
/// </summary>
public static class Murmur2
{
    public static int Hash(ReadOnlySpan<byte> data)
    {
        const uint seed = 0x9747b28c;
        const uint m = 0x5bd1e995;
        const int r = 24;

        int length = data.Length;
        uint h = seed ^ (uint)length;
        int blocks = length / 4;
        for (int i = 0; i < blocks; i++)
        {
            int o = i * 4;
            uint k = (uint)(data[o] | data[o + 1] << 8 | data[o + 2] << 16 | data[o + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        int tail = blocks * 4;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return unchecked((int)h);
    }

    /// <summary>Kafka's Utils.toPositive: masks the sign bit (not Math.Abs).</summary>
    public static int ToPositive(int value) => value & 0x7fffffff;
}
