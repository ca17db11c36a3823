#!/bin/bash
# t3300-hostile.sh - what an attacker would try on kiln build and the store:
# recipes reading the host, decompression bombs, a tampered cache, forged
# files.tsv lines, bundles copied to another version, released versions
# rebuilt, leftovers of killed builds. Each case failed before its fix.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
mkdir -p r/files
echo ok > r/files/ok.txt
# hostile RECIPE-DIR DEST=SOURCE:MODE: a recipe in r/ with one [Files] line
hostile() {
	cat > r/h.recipe <<EOR
[Image]
Family=app
Cmd=/usr/bin/app
[Source]
URI=file://$T/fx/repo
Suites=kilntest kilntest-security
Keyring=$T/fx/keyring.gpg
[Kernel]
Package=linux-image-kilntest
[Packages]
Install=app
[Files]
$1
EOR
}

# --- [Files] sources stay inside the recipe's directory
hostile "/etc/stolen=../../../../../../../../etc/shadow:0644"
expect 2 "a source with .. out of the recipe's directory" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:13: [Files] /etc/stolen: '../../../../../../../../etc/shadow' leads outside 'r'"
ln -s /etc/shadow r/files/shadow
hostile "/etc/stolen=files/shadow:0644"
expect 2 "a symlink leading out of it" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:13: [Files] /etc/stolen: 'files/shadow' leads outside 'r'"
ln -s /proc/self/environ r/files/environ
hostile "/etc/stolen=files/environ:0644"
expect 2 "a symlink to /proc/self/environ" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:13: [Files] /etc/stolen: 'files/environ' leads outside 'r'"
hostile "/etc/stolen=/etc/shadow:0644"
expect 2 "an absolute source" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:13: bad source '/etc/shadow' for key '/etc/stolen' in [Files]: sources are paths inside the recipe's directory"
mkfifo r/files/fifo
hostile "/etc/fifo=files/fifo:0644"
expect 2 "a FIFO does not hang the build" -- timeout 20 "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:13: [Files] /etc/fifo: 'files/fifo' is not a regular file"
truncate -s 65M r/files/big
hostile "/etc/big=files/big:0644"
expect 2 "a source over 64 MiB" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:13: [Files] /etc/big: 'files/big' is too large (68157440 bytes, at most 67108864)"
ln -s ok.txt r/files/link-in
hostile "/etc/ok=files/../files/link-in:0644"
expect 0 "a symlink and a .. that stay inside are fine" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.0
check "and the file is the one inside" -- test "$(bsdtar -xOf "$S/app/2026.01.0/initrd.img" etc/ok)" = ok
test_done
