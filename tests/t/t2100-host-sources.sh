#!/bin/bash
# t2100-host-sources.sh - From=host reads the host's apt sources (deb822 and
# one-line), their Signed-By keyrings, and nothing else. KILN_APT_ROOT points
# kiln at a fake host root.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
root=$T/root
mkdir -p "$root/etc/apt/sources.list.d" "$root/keys"
cp fx/keyring.gpg "$root/keys/repo.gpg"

host_recipe() {	# SUITES...
	cat <<EOR
[Image]
Family=app
Cmd=/usr/bin/app
[Source]
From=host
Suites=$*
[Kernel]
Package=linux-image-kilntest
[Packages]
Install=app
EOR
}
host_recipe kilntest kilntest-security > host.recipe

cat > "$root/etc/apt/sources.list.d/fixture.sources" <<EOF2
# the fixture, as a deb822 file
Types: deb
URIs: file://$T/fx/repo/
Suites: kilntest kilntest-security
Components: main
Signed-By: /keys/repo.gpg

Types: deb
URIs: file:///nonexistent
Suites: kilntest
Components: main
Enabled: no
EOF2
export KILN_APT_ROOT=$root
expect 0 "From=host with a deb822 .sources file" -- "$KILN" resolve host.recipe --store "$T/s1"
grep -q '^libfoo .* kilntest-security$' "$T/out" && ok "both suites were read" || not_ok "suites"

rm "$root/etc/apt/sources.list.d/fixture.sources"
echo "deb [signed-by=/keys/repo.gpg] file://$T/fx/repo kilntest main" > "$root/etc/apt/sources.list"
echo "deb [arch=amd64 signed-by=/keys/repo.gpg] file://$T/fx/repo kilntest-security main" > "$root/etc/apt/sources.list.d/sec.list"
expect 0 "From=host with one-line sources.list and .list files" -- "$KILN" resolve host.recipe --store "$T/s2"

host_recipe kilntest bookworm-backports > missing.recipe
expect 2 "a suite the host does not have" -- "$KILN" resolve missing.recipe --store "$T/s3"
err_has "suite 'bookworm-backports' is not in the host's apt sources"

# The key comes from the host entry: signed by another key, it fails.
cp fx/other.gpg "$root/keys/repo.gpg"
expect 4 "the host's Signed-By keyring is enforced" -- "$KILN" resolve host.recipe --store "$T/s4"
err_has "signed by a key that is not in the keyring"

# An inline armored Signed-By block, as deb822 allows.
rm -f "$root/etc/apt/sources.list" "$root/etc/apt/sources.list.d/"*
{
	echo "Types: deb"
	echo "URIs: file://$T/fx/repo"
	echo "Suites: kilntest kilntest-security"
	echo "Components: main"
	echo "Signed-By:"
	sed 's/^$/./; s/^/ /' fx/keyring.asc
} > "$root/etc/apt/sources.list.d/inline.sources"
expect 0 "an inline armored Signed-By key" -- "$KILN" resolve host.recipe --store "$T/s5"

# Without Signed-By, apt's trusted.gpg.d keyrings are used.
sed -i '/^Signed-By:/,$d' "$root/etc/apt/sources.list.d/inline.sources"
expect 4 "no Signed-By and no trusted keys" -- "$KILN" resolve host.recipe --store "$T/s6"
err_has "cannot be verified: no trusted keyring"
mkdir -p "$root/etc/apt/trusted.gpg.d"
cp fx/keyring.asc "$root/etc/apt/trusted.gpg.d/fixture.asc"
expect 0 "no Signed-By: trusted.gpg.d is used" -- "$KILN" resolve host.recipe --store "$T/s7"

echo "Types: deb" > "$root/etc/apt/sources.list.d/broken.sources"
expect 2 "a broken host sources file" -- "$KILN" resolve host.recipe --store "$T/s8"
err_has "broken.sources:1: entry lacks Types, URIs or Suites"
test_done
