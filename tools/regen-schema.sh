#!/usr/bin/env bash
# Regenerates src/Qmp.Schema/Generated/*.g.cs and schema/qmp-reference.md from schema/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run --project tools/Qmp.SchemaGen -- schema/qapi-schema.json --cs src/Qmp.Schema/Generated --md schema/qmp-reference.md "$@"
