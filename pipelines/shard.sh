#!/bin/bash
# shard.sh — one tts-generate run split by problem over K processes on one
# host (one per GPU, or several on the CPU), run by GNU parallel, merged
# with cat.  See pipelines/README.md.
#
# usage: shard.sh -k K [-j JOBS | -i I] [-g GPUS] [-s STAGE] -o OUT DATASET... -- TTS-GENERATE-ARGS...
#        shard.sh -k K -M -o OUT
#   -k K      number of shards: shard i gets the problems at positions p with
#             p mod K = i (tts-prompt --shard i/K)
#   -j JOBS   shards run at once (default K)
#   -i I      run shard I only, in this process, and do not merge (for a
#             cluster job array: pipelines/slurm.sbatch)
#   -M        merge only: cat the K shard files into OUT
#   -g GPUS   GPUs to use: a running shard gets --device cuda:SLOT, SLOT in
#             0..GPUS-1, never two shards on one GPU (default 0: CPU)
#   -s STAGE  the prompt stage, a command reading DATASET... and writing
#             prompt records (default: tts-prompt); --shard i/K is appended
#   -o OUT    the merged samples (format from the suffix, as tts-generate
#             -o); shard i writes OUT with .shard-i-of-K before the suffix
#             first, with --resume, so running the same command again after
#             a failure or a kill only does the missing work
# Exit 0 when every shard succeeded and OUT is written; 1 otherwise (the
# shard files are kept); 2 on a usage error.
set -euo pipefail   # a failing prompt stage fails its shard
usage_text="usage: shard.sh -k K [-j JOBS | -i I] [-g GPUS] [-s STAGE] -o OUT DATASET... -- TTS-GENERATE-ARGS...
       shard.sh -k K -M -o OUT"
usage() { echo "$usage_text" >&2; exit 2; }

# Shard i of k's file: OUT with .shard-i-of-k before its suffixes
# (run.msgpack.zst -> run.shard-0-of-2.msgpack.zst), so it has OUT's format.
shard_file() {
	d=$(dirname "$1") b=$(basename "$1")
	case "$b" in
	?*.*) echo "$d/${b%%.*}.shard-$2-of-$3.${b#*.}" ;;
	*) echo "$d/$b.shard-$2-of-$3" ;;
	esac
}

# One shard (called back through GNU parallel): $1 = i, $2 = slot (1-based).
if [ "${1:-}" = "--one" ]; then
	i=$2 slot=$3 k=$4 gpus=$5 stage=$6 out=$7
	shift 7
	data=""
	while [ "$1" != "--" ]; do data="$data '$(printf %s "$1" | sed "s/'/'\\\\''/g")'"; shift; done
	shift
	dev=""
	[ "$gpus" -gt 0 ] && dev="--device cuda:$(( (slot - 1) % gpus ))"
	# shellcheck disable=SC2086  # $stage and $dev are word lists on purpose
	eval "$stage --shard $i/$k $data" | tts-generate "$@" $dev -o "$(shard_file "$out" "$i" "$k")" --resume
	exit
fi

k="" jobs="" gpus=0 stage=tts-prompt out="" only="" merge_only=0
while getopts k:j:i:Mg:s:o:h opt; do
	case $opt in
	k) k=$OPTARG ;;
	j) jobs=$OPTARG ;;
	i) only=$OPTARG ;;
	M) merge_only=1 ;;
	g) gpus=$OPTARG ;;
	s) stage=$OPTARG ;;
	o) out=$OPTARG ;;
	h) echo "$usage_text"; exit 0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case "$k" in ''|*[!0-9]*|0) echo "shard.sh: -k: expected a positive integer" >&2; usage ;; esac
case "$gpus" in *[!0-9]*) echo "shard.sh: -g: expected a number of GPUs" >&2; usage ;; esac
[ -n "$out" ] || { echo "shard.sh: -o OUT is required" >&2; usage; }

# Merge: the shard files in order, into OUT (whole or not at all).
merge() {
	i=0
	set --
	while [ $i -lt "$k" ]; do
		f=$(shard_file "$out" $i "$k")
		[ -f "$f" ] || { echo "shard.sh: $f: missing" >&2; exit 1; }
		set -- "$@" "$f"
		i=$((i + 1))
	done
	cat "$@" >"$out.tmp" && mv "$out.tmp" "$out"
}
[ "$merge_only" = 1 ] && { merge; exit; }
jobs=${jobs:-$k}
[ "$gpus" -gt 0 ] && [ "$jobs" -gt "$gpus" ] && jobs=$gpus
seen=0
for a in "$@"; do [ "$a" = "--" ] && seen=1; done
[ "$seen" = 1 ] || { echo "shard.sh: expected -- before the tts-generate arguments" >&2; usage; }
if [ -n "$only" ]; then
	case "$only" in ''|*[!0-9]*) echo "shard.sh: -i: expected a shard number" >&2; usage ;; esac
	[ "$only" -lt "$k" ] || { echo "shard.sh: -i $only: shards are 0..$((k - 1))" >&2; usage; }
	exec "$0" --one "$only" 1 "$k" "$gpus" "$stage" "$out" "$@"
fi
command -v parallel >/dev/null 2>&1 || { echo "shard.sh: GNU parallel is needed (Debian: parallel)" >&2; exit 1; }

# --halt soon,fail=1: after a failure start no new shard, let the running
# ones finish (their work is kept for --resume).
seq 0 $((k - 1)) | parallel --will-cite -q -j "$jobs" --halt soon,fail=1 \
	"$0" --one '{}' '{%}' "$k" "$gpus" "$stage" "$out" "$@" || {
	echo "shard.sh: a shard failed; run the same command again to resume" >&2
	exit 1
}
merge
