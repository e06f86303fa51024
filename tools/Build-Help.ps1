<#
.SYNOPSIS
    Builds the module's MAML help (en-US/PSKafka.dll-Help.xml) from docs/help/<Command>.md and the
    commands' own parameter metadata, so syntax and parameter facts can never disagree with the code.
.DESCRIPTION
    Each docs/help/<Verb-Noun>.md has the sections "## SYNOPSIS", "## DESCRIPTION", "## EXAMPLES"
    (each "### title", a ```powershell block, then remarks) and "## PARAMETERS" (each "### -Name" and
    its description). Runs in a child pwsh from build.ps1: it imports the built module.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SourceDirectory,
    [Parameter(Mandatory)] [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$module = Import-Module $ModulePath -PassThru -Force
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

function ConvertFrom-HelpMarkdown([string] $Path) {
    $sections = @{}
    $current = $null
    foreach ($line in Get-Content $Path) {
        if ($line -match '^## (\w+)\s*$') { $current = $Matches[1]; $sections[$current] = [Collections.Generic.List[string]]::new(); continue }
        if ($current) { $sections[$current].Add($line) }
    }
    $help = @{ Synopsis = ''; Description = @(); Examples = @(); Parameters = @{}; Links = @() }
    if ($sections['SYNOPSIS']) { $help.Synopsis = ($sections['SYNOPSIS'] -join ' ').Trim() }
    if ($sections['DESCRIPTION']) { $help.Description = Split-Paragraphs $sections['DESCRIPTION'] }
    if ($sections['EXAMPLES']) {
        $example = $null; $inCode = $false
        foreach ($line in $sections['EXAMPLES']) {
            if ($line -match '^### (.+)$') { $example = @{ Title = $Matches[1]; Code = [Collections.Generic.List[string]]::new(); Remarks = [Collections.Generic.List[string]]::new() }; $help.Examples += $example; continue }
            if ($line -match '^```') { $inCode = -not $inCode; continue }
            if (-not $example) { continue }
            if ($inCode) { $example.Code.Add($line) } else { $example.Remarks.Add($line) }
        }
    }
    if ($sections['PARAMETERS']) {
        $name = $null
        foreach ($line in $sections['PARAMETERS']) {
            if ($line -match '^### -(\w+)') { $name = $Matches[1]; $help.Parameters[$name] = [Collections.Generic.List[string]]::new(); continue }
            if ($name) { $help.Parameters[$name].Add($line) }
        }
    }
    if ($sections['LINKS']) { $help.Links = @($sections['LINKS'] | Where-Object { $_ -match '\S' } | ForEach-Object { $_.Trim('-', ' ') }) }
    $help
}

function Split-Paragraphs($lines) {
    $text = ($lines -join "`n").Trim()
    if (-not $text) { return @() }
    @($text -split "`n\s*`n" | ForEach-Object { ($_ -split "`n" | ForEach-Object Trim) -join ' ' })
}

$maml = 'http://schemas.microsoft.com/maml/2004/10'
$cmd = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
$null = New-Item -ItemType Directory -Force (Split-Path $OutputPath)
$w = [Xml.XmlWriter]::Create($OutputPath, $settings)

function Write-Paras([string[]] $paras) {
    $w.WriteStartElement('maml', 'description', $maml)
    foreach ($p in $paras) { $w.WriteElementString('maml', 'para', $maml, $p) }
    $w.WriteEndElement()
}

function Get-PipelineInput($p) {
    $kinds = @()
    if ($p.ValueFromPipeline) { $kinds += 'ByValue' }
    if ($p.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

function Write-Parameter($p, [string[]] $description, [switch] $ForSyntax) {
    $w.WriteStartElement('command', 'parameter', $cmd)
    $w.WriteAttributeString('required', "$($p.IsMandatory)".ToLower())
    $w.WriteAttributeString('position', $(if ($p.Position -ge 0) { "$($p.Position)" } else { 'named' }))
    $w.WriteAttributeString('pipelineInput', (Get-PipelineInput $p))
    $w.WriteAttributeString('globbing', 'false')
    $w.WriteElementString('maml', 'name', $maml, $p.Name)
    if (-not $ForSyntax) { Write-Paras $description }
    if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
        $w.WriteStartElement('command', 'parameterValue', $cmd)
        $w.WriteAttributeString('required', 'true')
        $w.WriteString($p.ParameterType.Name)
        $w.WriteEndElement()
    }
    if (-not $ForSyntax) {
        $w.WriteStartElement('dev', 'type', $dev)
        $w.WriteElementString('maml', 'name', $maml, $p.ParameterType.FullName)
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
}

# Parameters many cmdlets share (-BootstrapServer…) are described once, in docs/help/common.
$shared = @{}
foreach ($file in Get-ChildItem (Join-Path $SourceDirectory 'common') -Filter '*.md' -ErrorAction SilentlyContinue) {
    $sharedHelp = ConvertFrom-HelpMarkdown $file.FullName
    foreach ($name in $sharedHelp.Parameters.Keys) { $shared[$name] = $sharedHelp.Parameters[$name] }
}

$missing = @()
$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $source = Join-Path $SourceDirectory "$($command.Name).md"
    if (-not (Test-Path $source)) { $missing += $command.Name; continue }
    $help = ConvertFrom-HelpMarkdown $source
    $w.WriteStartElement('command', 'command', $cmd)
    $w.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $w.WriteAttributeString('xmlns', 'dev', $null, $dev)

    $w.WriteStartElement('command', 'details', $cmd)
    $w.WriteElementString('command', 'name', $cmd, $command.Name)
    $w.WriteElementString('command', 'verb', $cmd, $command.Verb)
    $w.WriteElementString('command', 'noun', $cmd, $command.Noun)
    Write-Paras @($help.Synopsis)
    $w.WriteEndElement()
    Write-Paras $help.Description

    $w.WriteStartElement('command', 'syntax', $cmd)
    foreach ($set in $command.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $cmd)
        $w.WriteElementString('maml', 'name', $maml, $command.Name)
        foreach ($p in $set.Parameters | Where-Object Name -NotIn $common) { Write-Parameter $p @() -ForSyntax }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $cmd)
    $seen = @{}
    foreach ($set in $command.ParameterSets) {
        foreach ($p in $set.Parameters | Where-Object Name -NotIn $common) {
            if ($seen[$p.Name]) { continue }
            $seen[$p.Name] = $true
            $text = if ($help.Parameters[$p.Name]) { Split-Paragraphs $help.Parameters[$p.Name] } elseif ($shared[$p.Name]) { Split-Paragraphs $shared[$p.Name] } else { @() }
            if (-not $text) { $missing += "$($command.Name) -$($p.Name)" }
            Write-Parameter $p $text
        }
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'returnValues', $cmd)
    foreach ($type in $command.OutputType) {
        $w.WriteStartElement('command', 'returnValue', $cmd)
        $w.WriteStartElement('dev', 'type', $dev)
        $w.WriteElementString('maml', 'name', $maml, $type.Name)
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $cmd)
    $i = 0
    foreach ($example in $help.Examples) {
        $i++
        $w.WriteStartElement('command', 'example', $cmd)
        $title = if ($example.Title -match '^Example \d+$') { "Example $i" } else { "Example ${i}: $($example.Title)" }
        $w.WriteElementString('maml', 'title', $maml, "--------- $title ---------")
        $w.WriteElementString('dev', 'code', $dev, ($example.Code -join "`n").Trim())
        $w.WriteStartElement('dev', 'remarks', $dev)
        foreach ($p in Split-Paragraphs $example.Remarks) { $w.WriteElementString('maml', 'para', $maml, $p) }
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $cmd)
    foreach ($link in @($help.Links) + 'about_PSKafka') {
        $w.WriteStartElement('maml', 'navigationLink', $maml)
        $w.WriteElementString('maml', 'linkText', $maml, $link)
        $w.WriteElementString('maml', 'uri', $maml, '')
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.Dispose()

if ($missing) {
    Write-Warning "Help is missing for: $($missing -join '; ')"
}
