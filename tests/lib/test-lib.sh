# test-lib.sh - sourced by tests/t/*.sh: a fresh directory, the kiln binary,
# and ok/not ok reporting. Each script ends with test_done.
set -u
: "${KILN:?KILN must name the kiln binary}"
TEST_NAME=$(basename "$0" .sh)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/kiln-$TEST_NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
unset KILN_STORE KILN_NOW KILN_APT_ROOT
export LC_ALL=C
_n=0 _pass=0 _fail=0

ok() { _n=$((_n + 1)); _pass=$((_pass + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _fail=$((_fail + 1)); echo "not ok $_n - $*"; }

# expect CODE DESCRIPTION -- COMMAND...: runs it, output in $T/out and $T/err
expect() {
	local want=$1 desc=$2; shift 3
	"$@" > "$T/out" 2> "$T/err"
	local got=$?
	if [ "$got" -eq "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc: exit $got, wanted $want"
		sed 's/^/#   stderr: /' "$T/err" | head -5
	fi
}

# check DESCRIPTION -- COMMAND...: passes when COMMAND succeeds
check() {
	local desc=$1; shift 2
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# err_has TEXT: the last expect's stderr contains TEXT, on one line of the
# form "kiln CMD: ..."
err_has() {
	if grep -qF -- "$1" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q '^kiln [a-z -]*: ' "$T/err"; then
		ok "message says: $1"
	else
		not_ok "message lacks '$1' (or is not one 'kiln CMD:' line)"
		sed 's/^/#   stderr: /' "$T/err" | head -5
	fi
}

# An initramfs as the kernel unpacks it, every segment (bsdtar reads only the first archive)
initrd_tv() { python3 "$TOP/tests/lib/initrd.py" tv "$1"; }
initrd_cat() { python3 "$TOP/tests/lib/initrd.py" cat "$1" "$2"; }

# mkrepo: the signed fixture repository in $T/fx, and a recipe $T/app.recipe using it
mkrepo() {
	"$TOP/tests/lib/mkrepo.sh" "$T/fx" || { echo "Bail out! mkrepo failed"; exit 1; }
	recipe "$T/app.recipe" "file://$T/fx/repo" "$T/fx/keyring.gpg" app
}

# recipe FILE URI KEYRING INSTALL...
recipe() {
	local f=$1 uri=$2 key=$3; shift 3
	cat > "$f" <<EOR
[Image]
Family=app
Cmd=/usr/bin/app

[Source]
URI=$uri
Suites=kilntest kilntest-security
Keyring=$key

[Kernel]
Package=linux-image-kilntest

[Packages]
Install=$*
EOR
}

test_done() {
	echo "# $TEST_NAME: $_pass passed, $_fail failed"
	[ "$_fail" -eq 0 ]
}
