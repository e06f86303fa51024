using System.Management.Automation;
using PSKafka.Client;
using PSKafka.Engine;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// Base of every PSKafka cmdlet: turns engine failures into error records with stable ErrorIds and
/// categories, and cancels long operations when the user presses Ctrl+C.
/// </summary>
public abstract class KafkaCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled by Ctrl+C (StopProcessing).</summary>
    protected CancellationToken StopToken => _stopping.Token;

    /// <summary>The cluster this call talks to (cmdlets with -BootstrapServer override it).</summary>
    protected virtual IKafkaClient Client => Session.Client;

    /// <summary>Refuses what only the in-process cluster can do while the session is connected to a remote one.</summary>
    protected void RequireLocal(string what)
    {
        if (Session.Remote is { } remote)
            throw new NotSupportedRemotelyException($"{what} only works on the local cluster of this session, and the session is connected to {remote.Description}. Run Disconnect-Cluster first.");
    }

    protected virtual void Begin() { }
    protected virtual void Process() { }
    protected virtual void End() { }

    protected sealed override void BeginProcessing() => Guard(Begin);
    protected sealed override void ProcessRecord() => Guard(Process);
    protected sealed override void EndProcessing() => Guard(End);

    protected override void StopProcessing() => _stopping.Cancel();

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is KafkaException or DataDirectoryInUseException or IOException or InvalidOperationException or ArgumentException)
        {
            if (e is PipelineStoppedException) throw;
            ThrowTerminatingError(ToErrorRecord(e, null));
        }
    }

    public static ErrorRecord ToErrorRecord(Exception e, object? target)
    {
        var (id, category) = e switch
        {
            PartitionNotFoundException => (ErrorIds.PartitionNotFound, ErrorCategory.ObjectNotFound),
            PortInUseException => (ErrorIds.PortInUse, ErrorCategory.ResourceBusy),
            BrokerNotFoundException => (ErrorIds.BrokerNotFound, ErrorCategory.ObjectNotFound),
            BrokerLogNotFoundException => (ErrorIds.BrokerLogNotFound, ErrorCategory.ObjectNotFound),
            ClusterUnreachableException => (ErrorIds.ClusterUnreachable, ErrorCategory.ConnectionError),
            NotSupportedRemotelyException => (ErrorIds.NotSupportedRemotely, ErrorCategory.NotImplemented),
            KafkaException k => ErrorIds.For(k.Code),
            DataDirectoryInUseException => (ErrorIds.DataDirectoryInUse, ErrorCategory.ResourceBusy),
            ArgumentException => ("InvalidArgument", ErrorCategory.InvalidArgument),
            InvalidOperationException => ("InvalidOperation", ErrorCategory.InvalidOperation),
            _ => ("IOError", ErrorCategory.WriteError),
        };
        return new ErrorRecord(e, id, category, target);
    }

    protected void WriteKafkaError(Exception e, object? target) => WriteError(ToErrorRecord(e, target));

    protected void ThrowKafkaError(string errorId, ErrorCategory category, string message, object? target) =>
        ThrowTerminatingError(new ErrorRecord(new KafkaException(ErrorCode.None, message), errorId, category, target));
}
