# Loaded by every tests/*.bats: bats-support, bats-assert, tools on PATH.
TTS_TOP="$(cd "$(dirname "${BATS_TEST_FILENAME}")/.." && pwd)"
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
PATH="$TTS_TOP/${BUILD:-build}:$PATH"
FIXTURES="$TTS_TOP/tests/fixtures"
export TTS_TOP FIXTURES

# signal_midway SIG WATCH INPUT CMD...: run CMD (a program itself, not a shell
# around it: the signal must reach it) in the background with stdin from
# INPUT; once WATCH has data (or CMD has ended), send it SIG and wait; its
# exit status is left in $st.
signal_midway() {
	local sig=$1 watch=$2 input=$3
	shift 3
	"$@" <"$input" &
	pid=$!
	while [ ! -s "$watch" ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
	kill -"$sig" $pid
	st=0
	wait $pid || st=$?
}
