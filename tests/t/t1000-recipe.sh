#!/bin/bash
# t1000-recipe.sh - recipe errors reach the user as one line with file:line and exit 2.
. "$(dirname "$0")/../lib/test-lib.sh"

good() {
	cat <<'EOR'
[Image]
Family=app
Cmd=/usr/bin/app

[Source]
URI=file:///nonexistent
Suites=kilntest
Keyring=/nonexistent.gpg

[Kernel]
Package=linux-image-kilntest

[Packages]
Install=app
EOR
}

good | sed 's/^Install=/Instal=/' > typo.recipe
expect 2 "an unknown key" -- "$KILN" resolve typo.recipe
err_has "typo.recipe:14: unknown key 'Instal' in [Packages]"

good | sed 's/^Family=app/Family=App_1/' > fam.recipe
expect 2 "a bad family name" -- "$KILN" resolve fam.recipe
err_has "fam.recipe:2: bad family name 'App_1'"

{ good; printf '[Files]\n/etc/x=x:0999\n'; } > mode.recipe
expect 2 "a bad mode" -- "$KILN" resolve mode.recipe
err_has "mode.recipe:16: bad mode '0999'"

good | sed '/^Cmd=/d' > nocmd.recipe
expect 2 "a missing required key" -- "$KILN" resolve nocmd.recipe
err_has "nocmd.recipe:1: missing required key 'Cmd' in [Image]"

{ good; echo "Install=other"; } > dup.recipe
expect 2 "a duplicate key" -- "$KILN" resolve dup.recipe
err_has "dup.recipe:15: duplicate key 'Install' in [Packages] (first at line 14)"

{ good; printf '[Bogus]\nX=1\n'; } > sec.recipe
expect 2 "an unknown section" -- "$KILN" resolve sec.recipe
err_has "sec.recipe:15: unknown section [Bogus]"

{ good; printf 'Install2\0=x\n'; } > nul.recipe
expect 2 "a NUL byte" -- "$KILN" resolve nul.recipe
err_has "nul.recipe:15: NUL byte in recipe"

{ good; head -c 1100000 /dev/zero | tr '\0' '#'; } > big.recipe
expect 2 "a recipe over 1 MiB" -- "$KILN" resolve big.recipe
err_has "recipe too large"

expect 2 "a missing recipe file" -- "$KILN" resolve nosuch.recipe
err_has "cannot open 'nosuch.recipe'"

good | sed 's/^OnExit.*//; s/^Cmd=.*/&\nOnExit=halt/' > onexit.recipe
expect 2 "a bad OnExit" -- "$KILN" resolve onexit.recipe
err_has "onexit.recipe:4: bad value 'halt' for key 'OnExit'"

# the example recipes are valid (resolving them needs the network: only parse here)
for r in "$TOP"/recipes/*.recipe; do
	"$KILN" resolve --offline --store "$T/empty-store" "$r" > /dev/null 2> "$T/err"
	rc=$?
	[ "$rc" -eq 5 ] && ok "$(basename "$r") parses (and is not cached: exit 5)" ||
		{ not_ok "$(basename "$r"): exit $rc"; cat "$T/err"; }
done
test_done
