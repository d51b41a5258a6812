#!/usr/bin/env bash
# Stops what `npm run setup` started for this project: Synapse. PostgreSQL and Redis are left
# running when they were already there (they serve other projects on the machine too).
set -euo pipefail
bash "$(dirname "$0")/synapse.sh" stop
