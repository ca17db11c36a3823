#!/bin/bash
# t5100-serve.sh - the HTTP API: routes, tenant tokens, the lifecycle rules over POST, and bad requests.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
recipe img.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" app
sed -i 's|^Cmd=.*|Cmd=/usr/bin/app|' img.recipe
export KILN_STORE=$T/store
"$KILN" keygen --out k > /dev/null
for v in 2026.01.0 2026.02.0 2026.03.0; do "$KILN" build img.recipe --key k --version "$v" > /dev/null 2>&1; done
"$KILN" policy trust k.pub > /dev/null
"$KILN" release app/2026.01.0 --released 2026-01-05 > /dev/null
"$KILN" release app/2026.02.0 --released 2026-02-05 > /dev/null
"$KILN" release app/2026.03.0 --released 2026-03-05 > /dev/null
ACME=$("$KILN" tenant token acme)
GLOBEX=$("$KILN" tenant token globex)
"$KILN" deploy create g1 --tenant globex --record-only --family app --now 2026-02-10 > /dev/null
expect 2 "tenant token with a bad name" -- "$KILN" tenant token 'a b'
# built but never released: one simply not yet, one whose release was refused (untrusted key)
"$KILN" keygen --out evil > /dev/null
"$KILN" build img.recipe --key k --version 2026.04.0 > /dev/null 2>&1
"$KILN" build img.recipe --key evil --version 2026.05.0 > /dev/null 2>&1
expect 4 "a release signed by an untrusted key is refused" -- "$KILN" release app/2026.05.0
# a catalog from before the fixes index (schema 1) and before guests (schema 3): opening it indexes the
# released versions' manifests, and its deployments become records only (guest NULL, no instance)
python3 -c "import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute('DROP TABLE fixes'); d.execute('DROP TABLE instances'); d.execute('ALTER TABLE deployments DROP COLUMN guest'); d.execute('ALTER TABLE policies DROP COLUMN health_timeout_s'); d.execute('PRAGMA user_version = 1'); d.commit()" "$KILN_STORE/catalog.db"
"$KILN" versions > /dev/null
check "the migration kept the deployment as a record only" -- python3 -c "
import sqlite3, sys; d = sqlite3.connect(sys.argv[1])
assert d.execute('SELECT name, guest FROM deployments').fetchall() == [('g1', None)]
assert d.execute('SELECT count(*) FROM instances').fetchone()[0] == 0" "$KILN_STORE/catalog.db"
check "the migration indexed the fixes of the three released versions, from their manifests" -- python3 -c "
import sqlite3, sys; d = sqlite3.connect(sys.argv[1])
assert d.execute('PRAGMA user_version').fetchone()[0] == 4
rows = d.execute(\"SELECT DISTINCT version FROM fixes WHERE id = 'CVE-2026-1111' ORDER BY version\").fetchall()
assert rows == [('2026.01.0',), ('2026.02.0',), ('2026.03.0',)], rows" "$KILN_STORE/catalog.db"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KILN" serve --listen "127.0.0.1:$port" --now 2026-03-10 2> serve.log &
srv=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/v1/families" > /dev/null && break; sleep 0.1; done
U=http://127.0.0.1:$port

get() {	# DESC STATUS PATH [curl args...] : body in $T/body
	local desc=$1 want=$2 path=$3; shift 3
	local got
	got=$(curl -s -o "$T/body" -w '%{http_code}' "$@" "$U$path")
	if [ "$got" = "$want" ]; then ok "$desc ($want)"; else not_ok "$desc: HTTP $got, wanted $want: $(head -c 200 "$T/body")"; fi
}
json() {	# DESC PYTHON-EXPR over j
	python3 -c "import json, sys; j = json.load(open('$T/body')); assert $2, j" 2>/dev/null && ok "$1" || not_ok "$1: $(head -c 300 "$T/body")"
}

get "GET /v1/families" 200 /v1/families
json "families list app with its newest active version" "j == [{'family': 'app', 'versions': 3, 'active': 2, 'newest_active': '2026.03.0'}]"
get "GET versions" 200 /v1/families/app/versions
json "only active ones by default" "[v['version'] for v in j] == ['2026.03.0', '2026.02.0']"
get "GET versions?all=1" 200 "/v1/families/app/versions?all=1"
json "all, with dates" "j[2]['version'] == '2026.01.0' and j[2]['state'] == 'disabled' and j[2]['disables_on'] == '2026-03-06'"
get "GET one version" 200 /v1/versions/app/2026.02.0
json "lifecycle and manifest summary" "j['state'] == 'active' and len(j['manifest']['sha256']) == 64 and j['manifest']['packages'] > 0"
get "GET the manifest" 200 /v1/versions/app/2026.02.0/manifest
cmp -s "$T/body" "$KILN_STORE/app/2026.02.0/manifest.json" && ok "the signed bytes, unchanged" || not_ok "manifest bytes differ"
get "GET the signature" 200 /v1/versions/app/2026.02.0/manifest.sig
cmp -s "$T/body" "$KILN_STORE/app/2026.02.0/manifest.json.sig" && ok "the signature file" || not_ok "signature differs"
get "GET fixes" 200 /v1/fixes/CVE-2026-1111
json "the fix is in every released version, and only in those" "[v['version'] for v in j['families'][0]['versions']] == ['2026.01.0', '2026.02.0', '2026.03.0']"
get "a version never released has no manifest to serve" 404 /v1/versions/app/2026.05.0/manifest
cp "$KILN_STORE/app/2026.02.0/manifest.json" manifest.saved
sed -i 's/"app"/"ppa"/' "$KILN_STORE/app/2026.02.0/manifest.json"
get "a released manifest changed in the store is not served" 500 /v1/versions/app/2026.02.0/manifest
json "and the API says why" "j['error'] == 'the stored manifest is not the one released'"
get "nor its signature" 500 /v1/versions/app/2026.02.0/manifest.sig
cp manifest.saved "$KILN_STORE/app/2026.02.0/manifest.json"

get "deployments without a token" 401 /v1/deployments
get "deployments with a bad token" 401 /v1/deployments -H "Authorization: Bearer kiln_nope"
get "acme's deployments" 200 /v1/deployments -H "Authorization: Bearer $ACME"
json "acme has none yet" "j == []"
get "POST on a disabled version" 403 /v1/deployments -H "Authorization: Bearer $ACME" -d '{"name": "w1", "family": "app", "version": "2026.01.0"}'
json "with the CLI's message" "j['error'] == 'app/2026.01.0 is disabled since 2026-03-06; supported: 2026.02.0, 2026.03.0'"
get "POST a deployment" 201 /v1/deployments -H "Authorization: Bearer $ACME" -d '{"name": "w1", "family": "app", "auto": true}'
json "on the newest active version, automatic" "j['version'] == '2026.03.0' and j['auto_update'] is True and j['tenant'] == 'acme'"
get "POST the same name again" 409 /v1/deployments -H "Authorization: Bearer $ACME" -d '{"name": "w1", "family": "app"}'
get "POST malformed JSON" 400 /v1/deployments -H "Authorization: Bearer $ACME" -d '{"name": '
get "POST without a family" 400 /v1/deployments -H "Authorization: Bearer $ACME" -d '{"name": "x"}'
get "POST an oversized body" 413 /v1/deployments -H "Authorization: Bearer $ACME" --data-binary "@$TOP/fuzz/corpus/manifest/redis.json" -H 'Content-Type: application/json' -d "$(head -c 20000 /dev/zero | tr '\0' x)"
get "acme sees its own" 200 /v1/deployments -H "Authorization: Bearer $ACME"
json "only w1" "[d['name'] for d in j] == ['w1']"
get "globex sees its own" 200 /v1/deployments -H "Authorization: Bearer $GLOBEX"
json "only g1" "[d['name'] for d in j] == ['g1']"
get "acme's events" 200 /v1/events -H "Authorization: Bearer $ACME"
json "acme's only" "j and all(e['tenant'] == 'acme' for e in j)"

get "an unknown family" 404 /v1/families/nope/versions
get "a bad family name" 400 /v1/families/NOPE/versions
get "an unreleased version" 404 /v1/versions/app/2026.09.0
get "a bad version" 400 /v1/versions/app/2026.9
get "a path with .." 404 /v1/../../etc/passwd --path-as-is
get "a path with odd bytes" 404 '/v1/families/%00/versions'
get "too many segments" 404 /v1/a/b/c/d/e
get "not under /v1" 404 /
get "DELETE" 405 /v1/families -X DELETE
get "a bad fix id" 400 /v1/fixes/heartbleed
check "the server is still up after all that" -- kill -0 $srv
kill $srv; wait $srv 2>/dev/null
expect 2 "serve with a bad address" -- "$KILN" serve --listen nowhere
test_done
