namespace PSKafka.Engine.Cluster;

/// <summary>Kafka's rules for topic names (Topic.validate): [a-zA-Z0-9._-], 1..249 characters, not "." or "..".</summary>
public static class TopicNames
{
    public const int MaxLength = 249;

    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "Topic name is illegal, it can't be empty.";
        if (name is "." or "..") return "Topic name cannot be \".\" or \"..\".";
        if (name.Length > MaxLength) return $"Topic name is illegal, it can't be longer than {MaxLength} characters, topic name: {name}.";
        foreach (var c in name)
            if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '.' or '_' or '-'))
                return $"Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'.";
        return null;
    }

    public static void Validate(string? name)
    {
        if (Problem(name) is { } problem) throw new KafkaException(ErrorCode.InvalidTopicException, problem);
    }
}
