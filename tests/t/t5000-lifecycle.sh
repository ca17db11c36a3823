#!/bin/bash
# t5000-lifecycle.sh - the catalog and a scripted year: monthly releases plus
# an out-of-band one, deployments pinned and automatic, a tick every day;
# states, refusals, forced upgrades and notices on the right days.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
recipe img.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" app
sed -i 's|^Cmd=.*|Cmd=/usr/bin/app|' img.recipe
export KILN_STORE=$T/store
"$KILN" keygen --out release.key > /dev/null
VERSIONS="2026.01.0 2026.02.0 2026.03.0 2026.03.1 2026.04.0 2026.05.0 2026.06.0 2026.07.0 2026.08.0 2026.09.0 2026.10.0 2026.11.0 2026.12.0"
for v in $VERSIONS; do
	"$KILN" build img.recipe --key release.key --version "$v" > /dev/null 2>&1 || not_ok "build $v"
done
release_day() {	# VERSION → its release day
	case $1 in 2026.03.1) echo 2026-03-20 ;; *) echo "2026-${1:5:2}-05" ;; esac
}

# --- the catalog
expect 4 "release with no trusted key" -- "$KILN" release app/2026.01.0 --released 2026-01-05 --now 2026-01-05
err_has "no trusted key"
expect 0 "policy trust" -- "$KILN" policy trust release.key.pub
expect 2 "policy trust with something that is not a key" -- "$KILN" policy trust img.recipe
check "the catalog is WAL, schema 4" -- python3 -c "
import sqlite3, sys; d = sqlite3.connect(sys.argv[1])
assert d.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
assert d.execute('PRAGMA user_version').fetchone()[0] == 4" "$KILN_STORE/catalog.db"
expect 0 "policy show" -- "$KILN" policy show --json
check "defaults are the README's" -- python3 -c "
import json, sys; p = json.load(open(sys.argv[1]))[0]
assert (p['keep'], p['disable_after_days'], p['expire_after_days'], p['notice_days']) == (2, 60, 30, 30), p" "$T/out"
expect 2 "policy set with an unknown key" -- "$KILN" policy set keeep=3
expect 2 "policy set health_timeout_s=0" -- "$KILN" policy set health_timeout_s=0
expect 0 "policy set health_timeout_s for a family" -- "$KILN" policy set --family slow health_timeout_s=600
check "policy show has it" -- sh -c "'$KILN' policy show --json | python3 -c 'import json,sys; p={x[\"family\"]: x for x in json.load(sys.stdin)}; assert p[\"slow\"][\"health_timeout_s\"] == 600 and p[\"(built-in)\"][\"health_timeout_s\"] == 180, p'"
expect 0 "policy set for another family" -- "$KILN" policy set --family other keep=3 notice_days=10
"$KILN" keygen --out stranger.key > /dev/null
mkdir -p "$KILN_STORE/app/2026.99.0"
"$KILN" build img.recipe --key stranger.key --version 2026.12.9 > /dev/null 2>&1
expect 4 "a version signed by an untrusted key" -- "$KILN" release app/2026.12.9 --now 2026-01-01
err_has "the signature does not verify"

# --- a year, a tick every day
log=$T/sim.log; : > "$log"
d=2026-01-01
while [ "$d" != 2027-01-01 ]; do
	for v in $VERSIONS; do
		[ "$(release_day "$v")" = "$d" ] && "$KILN" release "app/$v" --released "$d" --now "$d" >> "$log"
	done
	if [ "$d" = 2026-01-10 ]; then
		"$KILN" deploy create pin1 --tenant acme --record-only --family app --version 2026.01.0 --now "$d" >> "$log" || not_ok "create pin1"
		"$KILN" deploy create auto1 --tenant acme --record-only --family app --auto --now "$d" >> "$log" || not_ok "create auto1"
		"$KILN" deploy create other1 --tenant globex --record-only --family app --now "$d" >> "$log" || not_ok "create other1"
	fi
	if [ "$d" = 2026-03-10 ]; then
		expect 3 "Mar 10: no new deployment on a disabled version" -- "$KILN" deploy create late --tenant acme --record-only --family app --version 2026.01.0 --now "$d"
		err_has "kiln deploy create: app/2026.01.0 is disabled since 2026-03-06; supported: 2026.02.0, 2026.03.0"
		expect 3 "Mar 10: a deployment on a disabled version may not change its configuration" -- \
			"$KILN" deploy update pin1 --tenant acme --config color=blue --now "$d"
		err_has "'pin1' runs app/2026.01.0, disabled since 2026-03-06"
		expect 3 "Mar 10: nor move to a disabled version" -- "$KILN" deploy update auto1 --tenant acme --version 2026.01.0 --now "$d"
		err_has "cannot move to app/2026.01.0, disabled since 2026-03-06"
		expect 0 "Mar 10: a change that also moves to an active version is fine" -- \
			"$KILN" deploy update other1 --tenant globex --version 2026.03.0 --config color=red --now "$d"
		"$KILN" versions --family app --all --json --now "$d" > v.json
		check "Mar 10: dates and forecasts" -- python3 - v.json <<'PY'
import json, sys
v = {x["version"]: x for x in json.load(open(sys.argv[1]))}
assert v["2026.01.0"]["state"] == "disabled" and v["2026.01.0"]["disables_on"] == "2026-03-06" and v["2026.01.0"]["expires_on"] == "2026-04-05", v["2026.01.0"]
assert v["2026.02.0"]["disables_on"] is None and v["2026.02.0"]["disable_forecast"] == "after 1 newer release"
assert v["2026.03.0"]["disable_forecast"] == "after 2 newer releases" and v["2026.03.0"]["released"] == "2026-03-05"
assert v["2026.03.0"]["security_updates"] == 1
PY
	fi
	"$KILN" tick --now "$d" >> "$log" || not_ok "tick $d"
	if [ "$d" = 2026-04-05 ]; then
		events_before=$("$KILN" events --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
		"$KILN" deploy list --json > deps.before
		"$KILN" tick --now "$d" > /dev/null
		[ "$("$KILN" events --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$events_before" ] &&
			"$KILN" deploy list --json | cmp -s - deps.before && ok "a second tick at the same time changes nothing" ||
			not_ok "tick is not idempotent"
	fi
	d=$(date -u -d "$d + 1 day" +%F)
done

"$KILN" events --json > events.json
check "the year's events" -- python3 - events.json <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))
def find(**kw):
    return [e for e in ev if all(e.get(k) == v for k, v in kw.items())]
day = lambda e: e["at"][:10]
# January's version: disabled when the 60 days were up (March's release came first), expired 30 days later
assert [day(e) for e in find(kind="disabled", version="2026.01.0")] == ["2026-03-06"]
assert [day(e) for e in find(kind="expired", version="2026.01.0")] == ["2026-04-05"]
# the out-of-band release counts: February's version is disabled 60 days after release, April 6
assert [day(e) for e in find(kind="disabled", version="2026.02.0")] == ["2026-04-06"]
# notices: once each, as soon as the date is known and within notice_days
n = find(kind="notice-disable", deployment="pin1")
assert [(day(e), e["version"]) for e in n] == [("2026-03-05", "2026.01.0")], n
n = find(kind="notice-expire", deployment="pin1")
assert [(day(e), e["version"]) for e in n] == [("2026-03-06", "2026.01.0")], n
# the pinned deployment on the expired version: force-upgraded to the newest active one, auto_update on
f = find(kind="forced-upgrade", deployment="pin1")
assert len(f) == 1 and day(f[0]) == "2026-04-05" and f[0]["from"] == "2026.01.0" and f[0]["to"] == "2026.04.0", f
assert f[0]["reason"] == "app/2026.01.0 expired on 2026-04-05"
# the automatic one followed every release, the out-of-band one included
a = [(day(e), e["to"]) for e in find(kind="auto-update", deployment="auto1")]
assert a[:3] == [("2026-02-05", "2026.02.0"), ("2026-03-05", "2026.03.0"), ("2026-03-20", "2026.03.1")], a
assert a[-1] == ("2026-12-05", "2026.12.0"), a
# globex sees its own events only (checked below through the CLI), and no event is duplicated
assert len({(e["kind"], e["deployment"], e["version"], e["at"]) for e in ev}) == len(ev)
PY
expect 0 "versions at the end of the year" -- "$KILN" versions --family app --json --now 2026-12-31
check "exactly the two newest versions are supported" -- python3 -c "
import json, sys; v = json.load(open(sys.argv[1]))
assert [x['version'] for x in v] == ['2026.12.0', '2026.11.0'], v
assert all(x['state'] == 'active' for x in v)" "$T/out"
"$KILN" deploy list --json > deps.json
check "every deployment ends on 2026.12.0 with automatic updates" -- python3 -c "
import json, sys; d = {x['name']: x for x in json.load(open(sys.argv[1]))}
assert d['pin1']['version'] == '2026.12.0' and d['pin1']['auto_update'] is True, d['pin1']
assert d['auto1']['version'] == '2026.12.0'
assert d['other1']['config'] == {'color': 'red'}" deps.json
expect 0 "events --tenant" -- "$KILN" events --tenant globex --json
check "a tenant's events are its own" -- python3 -c "
import json, sys; ev = json.load(open(sys.argv[1]))
assert ev and all(e['tenant'] == 'globex' for e in ev)" "$T/out"
expect 0 "events --since" -- "$KILN" events --since 2026-12-01 --json
check "--since filters" -- python3 -c "
import json, sys; ev = json.load(open(sys.argv[1]))
assert ev and all(e['at'] >= '2026-12-01' for e in ev)" "$T/out"

# --- releases never change
expect 0 "releasing a version again is a no-op" -- "$KILN" release app/2026.12.0 --now 2026-12-31
grep -q 'already released' "$T/out" && ok "says so" || not_ok "$(cat "$T/out")"
expect 3 "a released version cannot be rebuilt" -- "$KILN" build img.recipe --key release.key --version 2026.12.0 --force
# ... but its bundle can be swapped behind kiln's back: a validly signed other build of the same version
KILN_STORE=$T/elsewhere SOURCE_DATE_EPOCH=1790000000 "$KILN" build img.recipe --key release.key --version 2026.12.0 > /dev/null 2>&1
rm -rf "$KILN_STORE/app/2026.12.0"; cp -a "$T/elsewhere/app/2026.12.0" "$KILN_STORE/app/2026.12.0"
expect 4 "a released version whose manifest changed" -- "$KILN" release app/2026.12.0 --now 2026-12-31
err_has "app/2026.12.0 is released with another manifest"

# --- overrides
expect 0 "version extend" -- "$KILN" version extend app/2026.10.0 --until 2027-02-01 --reason "customer migration" --now 2026-12-31
"$KILN" versions --family app --all --json --now 2026-12-31 > v.json
check "an extended version is active until then" -- python3 -c "
import json, sys; v = {x['version']: x for x in json.load(open(sys.argv[1]))}
assert v['2026.10.0']['state'] == 'active' and v['2026.10.0']['disables_on'] == '2027-02-01', v['2026.10.0']" v.json
expect 0 "version disable" -- "$KILN" version disable app/2026.11.0 --reason "bad kernel" --until 2027-01-15 --now 2026-12-31
"$KILN" versions --family app --all --json --now 2026-12-31 > v.json
check "a disabled version, with the operator's expiry" -- python3 -c "
import json, sys; v = {x['version']: x for x in json.load(open(sys.argv[1]))}
assert v['2026.11.0']['state'] == 'disabled' and v['2026.11.0']['expires_on'] == '2027-01-15', v['2026.11.0']" v.json
expect 2 "version disable without a reason" -- "$KILN" version disable app/2026.11.0
"$KILN" events --json | grep -q 'bad kernel' && ok "the reason is in the event log" || not_ok "reason not logged"

# --- a tick killed midway leaves the catalog as it was
"$KILN" events --json > ev.before; "$KILN" deploy list --json > deps.before
(KILN_TEST_KILL_IN_TICK=1 exec "$KILN" tick --now 2027-03-01) > /dev/null 2>&1
"$KILN" events --json | cmp -s - ev.before && "$KILN" deploy list --json | cmp -s - deps.before &&
	ok "a killed tick changed nothing" || not_ok "a killed tick left changes"
expect 0 "the next tick does the work" -- "$KILN" tick --now 2027-03-01
"$KILN" events --json | cmp -s - ev.before && not_ok "nothing happened" || ok "events were written"

# --- deployments that run: bad input is refused before anything is touched
expect 5 "deploy create on a host that cannot be reached" -- "$KILN" deploy create far --tenant acme --family app \
	--host qemu+tcp://127.0.0.1:1/system --now 2027-01-02
err_has "cannot connect to libvirt on 'qemu+tcp://127.0.0.1:1/system'"
for w in "Sun 02:00+59m" "Sun 02:00+236m" "Sun 25:00+60m" "Someday 02:00+60m" "Sun 02:00"; do
	expect 2 "--window '$w'" -- "$KILN" deploy create w1 --tenant acme --family app --window "$w" --now 2027-01-02
done
err_has "bad --window 'Sun 02:00': the start is HH:MM (UTC), then '+' and the duration"
expect 2 "--volume that does not parse" -- "$KILN" deploy create v1 --tenant acme --family app --volume 1Q --now 2027-01-02
expect 2 "--reboot sometimes" -- "$KILN" deploy create v1 --tenant acme --family app --reboot sometimes --now 2027-01-02
expect 2 "--record-only with a guest's setting" -- "$KILN" deploy create v1 --tenant acme --family app --record-only --memory 256
expect 2 "a guest's setting on update" -- "$KILN" deploy update pin1 --tenant acme --window "Sun 02:00+60m"
expect 2 "restore without --snapshot" -- "$KILN" deploy restore pin1 --tenant acme
expect 2 "start of a record only" -- "$KILN" deploy start pin1 --tenant acme
err_has "is a record only (no guest)"
check "nothing was recorded by the refusals" -- sh -c "! '$KILN' deploy list --json | grep -q '\"far\"\\|\"w1\"\\|\"v1\"'"

# --- tick --dry-run: the plan, changing nothing; the tick then does exactly it
"$KILN" events --json > ev.before; "$KILN" deploy list --json > deps.before
expect 0 "tick --dry-run" -- "$KILN" tick --dry-run --json --now 2027-03-20
cp "$T/out" plan.json
"$KILN" events --json | cmp -s - ev.before && "$KILN" deploy list --json | cmp -s - deps.before &&
	ok "a dry run changes nothing" || not_ok "a dry run left changes"
expect 0 "tick --dry-run as text" -- "$KILN" tick --dry-run --now 2027-03-20
check "the text has a line per step" -- sh -c "test \$(grep -c '^app/2026\.[0-9]*\.[0-9]*[:;]' '$T/out') -eq \$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))[\"versions\"]))' plan.json)"
"$KILN" tick --json --now 2027-03-20 > done.json
check "the tick did what the plan said" -- python3 - plan.json done.json <<'PY'
import json, sys
plan, done = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert plan["guests"] == [], plan	# records only: no guest to move
plan = plan["versions"]
assert plan, "an empty plan"
assert sum(1 for s in plan if s["transition"]) == done["transitions"], (plan, done)
assert sum(s["deployments"] for s in plan if s["move"] == "forced-upgrade") == done["forced_upgrades"]
assert sum(s["deployments"] for s in plan if s["move"] == "auto-update") == done["auto_updates"]
assert all(s["to"] for s in plan if s["move"])
PY
expect 0 "after it, the plan has nothing left to change" -- "$KILN" tick --dry-run --json --now 2027-03-20
check "no transition, no move" -- python3 -c "import json,sys; p = json.load(open(sys.argv[1]))['versions']; assert not any(s['transition'] or s['move'] == 'forced-upgrade' for s in p), p" "$T/out"

# --- a catalog from a newer kiln is refused
python3 -c "import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute('PRAGMA user_version = 99'); d.commit()" "$KILN_STORE/catalog.db"
expect 2 "a newer schema" -- "$KILN" versions
err_has "has schema 99, newer than this kiln knows"
test_done
