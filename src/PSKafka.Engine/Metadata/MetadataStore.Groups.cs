using LiteDB;

namespace PSKafka.Engine.Metadata;

// Consumer groups and committed offsets. Shared by every broker of the process, so a coordinator
// that takes over a group after failover reads the same offsets the previous one wrote.
public sealed partial class MetadataStore
{
    private bool _offsetIndexesEnsured;

    private ILiteCollection<GroupRecord> Groups => _db.GetCollection<GroupRecord>("groups");
    private ILiteCollection<CommittedOffsetRecord> Offsets
    {
        get
        {
            var c = _db.GetCollection<CommittedOffsetRecord>("group_offsets");
            if (!_offsetIndexesEnsured)
            {
                c.EnsureIndex(o => o.Group);
                c.EnsureIndex(o => o.Topic);
                _offsetIndexesEnsured = true;
            }
            return c;
        }
    }

    public List<GroupRecord> LoadGroups()
    {
        lock (_gate) return Groups.FindAll().ToList();
    }

    public List<CommittedOffsetRecord> LoadOffsets(string group)
    {
        lock (_gate) return Offsets.Find(o => o.Group == group).ToList();
    }

    public void SaveGroup(GroupRecord group)
    {
        group.Updated = DateTime.UtcNow;
        lock (_gate) Groups.Upsert(group);
    }

    /// <summary>Commits offsets of one group in one transaction, like one OffsetCommit record batch.</summary>
    public void SaveOffsets(IReadOnlyList<CommittedOffsetRecord> offsets)
    {
        lock (_gate)
        {
            var collection = Offsets;
            _db.BeginTrans();
            foreach (var o in offsets)
            {
                o.Id = CommittedOffsetRecord.KeyOf(o.Group, o.Topic, o.Partition);
                collection.Upsert(o);
            }
            _db.Commit();
        }
    }

    /// <summary>
    /// Removes every group's committed offsets of a deleted topic (Kafka's GroupMetadataManager.cleanupGroupMetadata
    /// writes their tombstones) and returns the groups that had some.
    /// </summary>
    public List<string> DeleteOffsetsOfTopic(string topic)
    {
        lock (_gate)
        {
            var collection = Offsets;
            var groups = collection.Find(o => o.Topic == topic).Select(o => o.Group).Distinct(StringComparer.Ordinal).ToList();
            if (groups.Count > 0) collection.DeleteMany(o => o.Topic == topic);
            return groups;
        }
    }

    public bool HasOffsets(string group)
    {
        lock (_gate) return Offsets.Exists(o => o.Group == group);
    }

    public void DeleteGroup(string group)
    {
        lock (_gate)
        {
            _db.BeginTrans();
            Offsets.DeleteMany(o => o.Group == group);
            Groups.Delete(group);
            _db.Commit();
        }
    }
}
