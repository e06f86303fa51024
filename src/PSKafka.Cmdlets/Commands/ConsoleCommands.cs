using System.Management.Automation;
using System.Runtime.CompilerServices;
using PSKafka.Client;
using PSKafka.Client.ClusterView;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Engine;

namespace PSKafka.Cmdlets.Commands;

/// <summary>
/// Show-Cluster: a live full-screen console of the session's cluster (brokers, topics, partitions with
/// leaders and ISR, consumer groups, a tail of a partition) with actions to stop, crash and restart
/// brokers and to create and delete topics. On a remote cluster (Connect-Cluster or -BootstrapServer) it
/// reads through the client and leaves the brokers alone. Returns to the prompt when the user quits;
/// writes nothing to the pipeline.
/// </summary>
[Cmdlet(VerbsCommon.Show, "Cluster")]
[OutputType(typeof(void))]
public sealed class ShowClusterCommand : ClusterCmdlet
{
    protected override void End()
    {
        // Without a terminal to draw on and read keys from, the console would wait for input that never comes.
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
            ThrowKafkaError(ErrorIds.NoTerminal, ErrorCategory.DeviceError,
                "Show-Cluster needs an interactive terminal, but this session's input or output is redirected. Use Get-Broker and Get-Topic in scripts.", null);
        if (BootstrapServer is null && Session.Remote is null)
        {
            var cluster = Session.LocalCluster
                ?? throw new KafkaException(ErrorCode.BrokerNotAvailable, "No local cluster is open in this session. Start one with Start-Broker (./pskafka starts one for you), or give -BootstrapServer.");
            // A client of the console's own (not Session.Client): the console opens with every broker stopped too.
            DependencyLoadContext.Register();
            RunConsole(new EmbeddedClusterSource(new EmbeddedClient(cluster)), StopToken);
            return;
        }
        // The connection of -BootstrapServer lives as long as the console; the session's stays the session's.
        var client = TakeClient(out var owned);
        try
        {
            // One metadata call first: an unreachable cluster is a clear error at the prompt, not an empty screen.
            client.GetMetadata();
            using var source = new RemoteClusterSource(client);
            DependencyLoadContext.Register();
            RunConsole(source, StopToken);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    // Kept apart so that PSKafka.Tui is resolved only after the load context is registered.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RunConsole(IClusterSource source, CancellationToken stop) => Tui.ClusterConsole.Run(source, stop);
}
