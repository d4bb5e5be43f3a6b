#!/bin/sh
# Install, only when missing, the Debian packages tts needs to build and test.
# As root it runs apt-get; otherwise it prints the command to run.
set -u
PKGS="libmsgpack-dev libzstd-dev libjansson-dev libpcre2-dev jq bats bats-support bats-assert gnuplot-nox libxml2-utils pkg-config parallel"
[ -n "${TTS_NO_DEPS:-}" ] && exit 0              # SYSROOT builds bring their own
command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian: nothing to check
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "tts: missing Debian packages:$missing" >&2
	echo "tts: run: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "tts: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $missing >&2 || { apt-get update -q >&2 && apt-get install -y -q $missing >&2; }
