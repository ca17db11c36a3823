#!/bin/bash
# t2200-rollback.sh - a repository rolled back to an older, validly signed
# state: kiln remembers the newest Date: it accepted per source and suite and
# refuses an older index; a build never carries a package older than the
# family's previous version unless the recipe allows it.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
# app.recipe: mkrepo wrote it (test-lib.sh), installing app from the fixture
sec=fx/repo/dists/kilntest-security
libfoo() { python3 -c 'import json,sys; print(next(p["version"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"] == "libfoo"))' "$1"; }

expect 0 "the first build (kilntest-security dated 2026-01-01, libfoo 1.1)" -- "$KILN" build app.recipe --store "$S" --version 2026.01.0
cp -a "$sec" old-security		# validly signed, and about to be superseded
"$TOP/tests/lib/mkrepo.sh" "$T/fx" update || not_ok "mkrepo update"
expect 0 "the next build (dated 2026-01-15, libfoo 1.2)" -- "$KILN" build app.recipe --store "$S" --version 2026.01.1
check "it carries the security update" -- test "$(libfoo "$S/app/2026.01.1/manifest.json")" = 1.2
check "the accepted Date is remembered per source and suite" -- \
	grep -rqx "1768435200 2026-01-15T00:00:00Z file://$T/fx/repo/dists/kilntest-security/InRelease" "$S/cache/dates"
ref_before=$(cat "$S"/cache/refs/*)

# the mirror is rolled back to the older, validly signed state
rm -rf "$sec"; cp -a old-security "$sec"
expect 4 "resolve refuses an index older than one it accepted" -- "$KILN" resolve app.recipe --store "$S"
err_has "kilntest-security/InRelease': signed index dated 2026-01-01T00:00:00Z is older than the one already accepted (2026-01-15T00:00:00Z): a replayed or rolled-back repository; --allow-older-index accepts it"
expect 4 "so does build" -- "$KILN" build app.recipe --store "$S" --version 2026.01.2
check "nothing was built" -- test ! -e "$S/app/2026.01.2"
check "the cache's refs still name the newer index" -- test "$(cat "$S"/cache/refs/*)" = "$ref_before"
url=file://$T/fx/repo/dists/kilntest-security/InRelease
ref=$S/cache/refs/$(printf %s "$url" | sha256sum | cut -d' ' -f1)
cp "$ref" ref.saved; sha256sum < old-security/InRelease | cut -d' ' -f1 > "$ref"
expect 4 "--offline cannot be rolled back through the cache's refs either" -- "$KILN" resolve app.recipe --store "$S" --offline
err_has "signed index dated 2026-01-01T00:00:00Z is older than the one already accepted"
cp ref.saved "$ref"
expect 0 "a store that never saw the newer index accepts the older one" -- "$KILN" resolve app.recipe --store "$T/s3"

# the explicit override is logged, and the family's own history still guards the packages
expect 0 "--allow-older-index accepts it, with a warning" -- "$KILN" resolve app.recipe --store "$S" --allow-older-index
check "the warning names both dates" -- grep -qxF "kiln resolve: warning: accepted file://$T/fx/repo/dists/kilntest-security/InRelease dated 2026-01-01T00:00:00Z, older than the one dated 2026-01-15T00:00:00Z accepted before (--allow-older-index)" "$T/err"
expect 4 "a build would still downgrade libfoo: refused" -- "$KILN" build app.recipe --store "$S" --version 2026.01.2 --allow-older-index
err_has "app.recipe: would downgrade libfoo 1.2 → 1.1 against app/2026.01.1; [Packages] AllowDowngrade= names the packages that may go back"
check "nothing was built" -- test ! -e "$S/app/2026.01.2"
sed 's/^Install=app$/Install=app\nAllowDowngrade=libfoo/' app.recipe > allow.recipe
expect 0 "AllowDowngrade= lets the recipe go back on purpose" -- "$KILN" build allow.recipe --store "$S" --version 2026.01.2 --allow-older-index
check "the build says what it accepted" -- sh -c "grep -q '^kiln build: warning: accepted .*kilntest-security/InRelease dated 2026-01-01' '$T/err' &&
	grep -qxF 'kiln build: warning: libfoo 1.1 is older than 1.2 in app/2026.01.1 (AllowDowngrade=)' '$T/err'"
check "the manifest keeps the override on record" -- python3 - "$S/app/2026.01.2/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
s = {x["suite"]: x for x in m["sources"]}
assert s["kilntest-security"]["accepted_older_than"] == "2026-01-15T00:00:00Z", s
assert "accepted_older_than" not in s["kilntest"], s
PY
check "the remembered Date does not go back" -- grep -rq "^1768435200 " "$S/cache/dates"
expect 2 "AllowDowngrade= takes package names" -- "$KILN" resolve <(sed 's/^AllowDowngrade=.*/AllowDowngrade=Bad_Name/' allow.recipe) --store "$S"
test_done
