# The tools the tests drive besides .NET: real Kafka clients (kcat, kafka-python) and a real terminal (tmux, for
# Show-Cluster), each with the Debian package that brings it. One list for build.ps1, which checks them (and installs
# them as root with apt-get) before any test runs, and for the tests, which fail naming a missing one: none skips.
$tools = [ordered]@{
    kcat           = @{ Package = 'kcat'; Command = 'kcat' }
    tmux           = @{ Package = 'tmux'; Command = 'tmux' }
    'kafka-python' = @{ Package = 'python3-kafka'; Command = '/usr/bin/python3'; Check = '-c', 'import kafka' }
}

# Each tool: its name, its Debian package, and whether this machine has it.
function Get-TestTool {
    foreach ($name in $tools.Keys) {
        $tool = $tools[$name]
        $installed = [bool](Get-Command $tool.Command -CommandType Application -ErrorAction Ignore)
        if ($installed -and $tool.Check) {
            & $tool.Command @($tool.Check) *> $null
            $installed = $LASTEXITCODE -eq 0
        }
        [pscustomobject]@{ Name = $name; Package = $tool.Package; Installed = $installed }
    }
}

# Fails (a test, or the block it is in) when a tool it drives is missing, naming the tool and its install command.
function Assert-TestTool {
    param([Parameter(Mandatory)] [ValidateScript({ $tools.Contains($_) })] [string] $Name)
    $tool = Get-TestTool | Where-Object Name -EQ $Name
    if (-not $tool.Installed) {
        throw "$Name is not installed: sudo apt-get install -y $($tool.Package) (./build.sh test installs it when run as root)"
    }
}

Export-ModuleMember -Function Get-TestTool, Assert-TestTool
