#!/bin/bash
# apt-equal.sh - needs the network: kiln resolve must choose exactly the
# packages apt-get would install (no Recommends, empty dpkg status), on the
# real archive behind the host's apt sources.
#   usage: apt-equal.sh [PACKAGE...]   (default: the example recipes, then a sample)
set -u
KILN=${KILN:-build/kiln}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# apt's own view, from a private copy of the lists so the host is untouched
# and both tools read the archive at the same moment.
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
: > "$tmp/status"
APT=(-o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" -o Dir::State::status="$tmp/status"
     -o APT::Install-Recommends=false -o Debug::NoLocking=1)
if ! apt-get "${APT[@]}" -qq update >"$tmp/update.log" 2>&1; then
	echo "apt-get update failed, the archive is not reachable: nothing to compare (skipped)"
	cat "$tmp/update.log"
	exit 77
fi

apt_set() {	# PACKAGE... → "name version" lines
	apt-get "${APT[@]}" -s install "$@" 2>"$tmp/apt.err" | awk '/^Inst /{sub(/^\(/, "", $3); print $2, $3}' | sort
}

kiln_set() {	# RECIPE → "name version" lines
	"$KILN" resolve "$1" --store "$tmp/store" --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    print(p["name"], p["version"])' | sort
}

check() {	# NAME RECIPE PACKAGE...
	local name=$1 recipe=$2; shift 2
	apt_set "$@" > "$tmp/apt.txt"
	if ! kiln_set "$recipe" > "$tmp/kiln.txt"; then
		echo "not ok - $name: kiln resolve failed"; fail=$((fail + 1)); return
	fi
	if [ ! -s "$tmp/apt.txt" ]; then
		echo "not ok - $name: apt-get chose nothing"; cat "$tmp/apt.err"; fail=$((fail + 1)); return
	fi
	if diff -u "$tmp/apt.txt" "$tmp/kiln.txt" > "$tmp/diff"; then
		echo "ok - $name: $(wc -l < "$tmp/kiln.txt") packages, same as apt"; pass=$((pass + 1))
	else
		echo "not ok - $name: differs from apt (- apt, + kiln)"; sed 1,2d "$tmp/diff"; fail=$((fail + 1))
	fi
}

recipe_for() {	# PACKAGE... → a recipe installing them from the host's suites
	cat <<EOR
[Image]
Family=probe
Cmd=/bin/true
[Source]
From=host
Suites=bookworm bookworm-updates bookworm-security
[Kernel]
Package=linux-image-cloud-amd64
[Packages]
Install=$*
EOR
}

if [ $# -eq 0 ]; then
	for r in "$here"/recipes/*.recipe; do
		pkgs=$(sed -n 's/^Install=//p' "$r")
		# shellcheck disable=SC2086
		check "$(basename "$r")" "$r" $pkgs
	done
	set -- nginx-light postgresql-15 openssh-server python3 curl haproxy memcached bind9
fi
for p in "$@"; do
	recipe_for "$p" > "$tmp/probe.recipe"
	check "$p" "$tmp/probe.recipe" "$p"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
