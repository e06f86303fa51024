#!/usr/bin/env sh
# POSIX entry point: gets PowerShell 7.6 from the local dotnet tool manifest and runs build.ps1.
#   ./build.sh [build|test|package|bench|clean] [build.ps1 options]
set -eu
root=$(cd "$(dirname "$0")" && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
exec dotnet tool run pwsh -NoLogo -NoProfile -NonInteractive -File "$root/build.ps1" "$@"
