# Loaded by every tests/*.bats: bats-support, bats-assert, tools on PATH.
TTS_TOP="$(cd "$(dirname "${BATS_TEST_FILENAME}")/.." && pwd)"
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
PATH="$TTS_TOP/${BUILD:-build}:$PATH"
FIXTURES="$TTS_TOP/tests/fixtures"
export TTS_TOP FIXTURES
