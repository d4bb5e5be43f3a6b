#!/bin/sh
# bench/fuzz.sh — a table of the last fuzzing runs (make fuzz, mk/fuzz.mk)
# from their logs: executions, seconds, executions/s, coverage (edges),
# features, corpus units and size, crash/leak/timeout artifacts kept.
# Usage: bench/fuzz.sh [BUILD/fuzz]
cd "$(dirname "$0")/.." || exit 2
d=${1:-build/fuzz}
printf '| harness | runs | s | exec/s | cov | ft | corpus | artifacts |\n|---|---|---|---|---|---|---|---|\n'
for log in "$d"/*.log; do
	n=$(basename "$log" .log)
	awk -v n="$n" -v art="$(ls "$d/crash/$n" 2>/dev/null | wc -l)" '
	/cov: / { for (i = 1; i <= NF; i++) { if ($i == "cov:") c = $(i+1); if ($i == "ft:") f = $(i+1); if ($i == "corp:") k = $(i+1) } }
	/^Done / { runs = $2; s = $5 }
	/stat::number_of_executed_units/ { if (!runs) runs = $2 }
	/stat::average_exec_per_sec/ { e = $2 }
	END { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", n, runs, s ? s : "(stopped)", e, c, f, k, art }' "$log"
done
