@{
    # ModuleVersion is stamped from Directory.Build.props by build.ps1: the one version source.
    RootModule           = 'PSKafka.dll'
    # The client library's types (LibrdkafkaMockCluster, ProducerSettings, ...) are usable from scripts once the module is imported.
    RequiredAssemblies   = @('PSKafka.Client.dll')
    ModuleVersion        = '0.0.0'
    GUID                 = '6f1d8d0e-3a52-4a53-9c47-5b6c4f3c2a91'
    Author               = 'PSKafka contributors'
    CompanyName          = 'PSKafka'
    Copyright            = '(c) PSKafka contributors. MIT License.'
    Description          = 'A real Kafka cluster inside your shell: brokers, topics, producers and consumers as PowerShell cmdlets, speaking the Kafka wire protocol.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')

    # One format file per command family.
    FormatsToProcess     = @(
        'formats/Cluster.Format.ps1xml'
        'formats/Topic.Format.ps1xml'
        'formats/Message.Format.ps1xml'
        'formats/Traffic.Format.ps1xml'
        'formats/LeaderElection.Format.ps1xml'
        'formats/Log.Format.ps1xml'
        'formats/Config.Format.ps1xml'
        'formats/Connection.Format.ps1xml'
        'formats/Group.Format.ps1xml'
        'formats/BrokerLog.Format.ps1xml'
    )

    # Explicit export lists: nothing is exported by wildcard.
    CmdletsToExport      = @(
        'Start-Broker'
        'Stop-Broker'
        'Get-Broker'
        'Invoke-LeaderElection'
        'New-Topic'
        'Get-Topic'
        'Remove-Topic'
        'Send-Message'
        'Receive-Message'
        'Connect-Cluster'
        'Disconnect-Cluster'
        'Get-Cluster'
        'Start-LogGenerator'
        'Stop-LogGenerator'
        'Get-LogGenerator'
        'Get-AccessLog'
        'Get-LogSegment'
        'Read-LogSegment'
        'Invoke-LogRetention'
        'Invoke-LogCleaner'
        'Get-BrokerConfig'
        'Set-BrokerConfig'
        'Get-TopicConfig'
        'Set-TopicConfig'
        'Show-Cluster'
        'Get-ConsumerGroup'
        'Get-ConsumerGroupOffset'
        'Reset-ConsumerGroupOffset'
        'Remove-ConsumerGroup'
        'Submit-ConsumerOffset'
        'Get-BrokerLog'
        'Get-BrokerLogLevel'
        'Set-BrokerLogLevel'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()

    PrivateData          = @{
        PSData = @{
            Tags         = @('Kafka', 'Streaming', 'Messaging', 'Broker', 'Learning')
            ProjectUri   = 'https://github.com/pskafka/pskafka'
            LicenseUri   = 'https://github.com/pskafka/pskafka/blob/main/LICENSE'
        }
    }
}
