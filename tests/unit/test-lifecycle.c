/* test-lifecycle.c - the lifecycle function: every lifecycle rule the README gives, edge days, and properties over random histories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "lifecycle.h"

static time_t
day(const char *s)
{
	time_t t;

	assert_int_equal(kiln_parse_iso8601(s, &t), 0);
	return t;
}

static void
assert_day(time_t t, const char *want)
{
	char got[21];

	kiln_format_iso8601(t, got);
	got[10] = '\0';
	if (strcmp(got, want))
		print_error("got %s, want %s\n", got, want);
	assert_string_equal(got, want);
}

static struct kiln_policy
policy(void)
{
	struct kiln_policy p;

	kiln_policy_default(&p);
	return p;
}

static void
dates(const struct kiln_lc_version *vs, size_t n, size_t i, struct kiln_lc_dates *d)
{
	struct kiln_policy p = policy();

	kiln_lifecycle_dates(&p, vs, n, i, d);
}

static void
test_single_version(void **state)
{
	struct kiln_lc_version vs[] = { { .version = "2026.01.0", .released = day("2026-01-01") } };
	struct kiln_lc_dates d;

	(void)state;
	dates(vs, 1, 0, &d);
	assert_false(d.disable_known);
	assert_false(d.expire_known);
	assert_int_equal(d.newer_needed, 2);
	assert_int_equal(kiln_lifecycle_state(&d, day("2030-01-01")), KILN_ACTIVE);
}

static void
test_monthly(void **state)
{
	struct kiln_lc_version vs[] = {
		{ .version = "2026.01.0", .released = day("2026-01-01") }, { .version = "2026.02.0", .released = day("2026-02-01") }, { .version = "2026.03.0", .released = day("2026-03-01") },
	};
	struct kiln_lc_dates d;

	(void)state;
	dates(vs, 3, 0, &d);
	assert_true(d.disable_known);
	assert_day(d.disabled_at, "2026-03-02");	/* 60 days after release: later than March's release */
	assert_day(d.expires_at, "2026-04-01");
	assert_int_equal(kiln_lifecycle_state(&d, day("2026-03-01T23:59:59Z")), KILN_ACTIVE);
	assert_int_equal(kiln_lifecycle_state(&d, day("2026-03-02")), KILN_DISABLED);
	assert_int_equal(kiln_lifecycle_state(&d, day("2026-03-31T23:59:59Z")), KILN_DISABLED);
	assert_int_equal(kiln_lifecycle_state(&d, day("2026-04-01")), KILN_EXPIRED);
	dates(vs, 3, 1, &d);
	assert_false(d.disable_known);
	assert_int_equal(d.newer_needed, 1);
	dates(vs, 3, 2, &d);
	assert_int_equal(d.newer_needed, 2);
}

static void
test_out_of_band(void **state)
{
	/* two releases in January: the out-of-band one counts as a newer version */
	struct kiln_lc_version vs[] = {
		{ .version = "2026.01.0", .released = day("2026-01-01") }, { .version = "2026.01.1", .released = day("2026-01-15") }, { .version = "2026.02.0", .released = day("2026-02-01") },
	};
	struct kiln_lc_dates d;

	(void)state;
	dates(vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-03-02");
	dates(vs, 3, 1, &d);
	assert_false(d.disable_known);
	assert_int_equal(d.newer_needed, 1);
}

static void
test_gap(void **state)
{
	/* no release for three months: January's version lives until the second newer one */
	struct kiln_lc_version vs[] = {
		{ .version = "2026.01.0", .released = day("2026-01-01") }, { .version = "2026.02.0", .released = day("2026-02-01") }, { .version = "2026.06.0", .released = day("2026-06-01") },
	};
	struct kiln_lc_dates d;

	(void)state;
	dates(vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-06-01");
	assert_day(d.expires_at, "2026-07-01");
	/* and before June's release it could not be known */
	dates(vs, 2, 0, &d);
	assert_false(d.disable_known);
	assert_int_equal(kiln_lifecycle_state(&d, day("2026-05-31")), KILN_ACTIVE);
}

static void
test_rerelease(void **state)
{
	struct kiln_lc_version vs[] = {
		{ .version = "2026.02.0", .released = day("2026-02-01") }, { .version = "2026.02.1", .released = day("2026-02-03") }, { .version = "2026.03.0", .released = day("2026-03-01") },
		{ .version = "2026.04.0", .released = day("2026-04-01") },
	};
	struct kiln_lc_dates d;

	(void)state;
	dates(vs, 4, 0, &d);	/* .1 and March are its two newer versions */
	assert_day(d.disabled_at, "2026-04-02");
	dates(vs, 4, 1, &d);
	assert_day(d.disabled_at, "2026-04-04");	/* 60 days after Feb 3, later than April 1 */
}

static void
test_overrides(void **state)
{
	struct kiln_lc_version vs[] = {
		{ .version = "2026.01.0", .released = day("2026-01-01") }, { .version = "2026.02.0", .released = day("2026-02-01") }, { .version = "2026.03.0", .released = day("2026-03-01") },
	};
	struct kiln_lc_dates d;

	(void)state;
	vs[0].extend_until = day("2026-06-01");
	dates(vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-06-01");
	assert_day(d.expires_at, "2026-07-01");
	vs[0].extend_until = day("2026-02-01");	/* an "extension" to before the date changes nothing */
	dates(vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-03-02");
	vs[0].extend_until = 0;

	vs[0].disable_at = day("2026-02-10");	/* a manual disable, early */
	dates(vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-02-10");
	assert_day(d.expires_at, "2026-03-12");
	vs[0].disable_at = 0;

	vs[2].disable_at = day("2026-03-05");	/* manual disable of the newest: known although keep is not met */
	dates(vs, 3, 2, &d);
	assert_true(d.disable_known);
	assert_int_equal(d.newer_needed, 0);
	assert_int_equal(kiln_lifecycle_state(&d, day("2026-03-05")), KILN_DISABLED);
	vs[2].disable_at = 0;

	vs[0].expire_at = day("2026-03-20");	/* the operator's batch date */
	dates(vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-03-02");
	assert_day(d.expires_at, "2026-03-20");
	vs[0].expire_at = day("2026-02-15");	/* expiring before the computed disable disables then too */
	dates(vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-02-15");
	assert_int_equal(kiln_lifecycle_state(&d, day("2026-02-15")), KILN_EXPIRED);
	vs[0].expire_at = 0;
	vs[1].expire_at = day("2026-05-01");	/* an operator date with keep unmet */
	dates(vs, 3, 1, &d);
	assert_true(d.disable_known && d.expire_known);
	assert_day(d.expires_at, "2026-05-01");
}

static void
test_policies(void **state)
{
	struct kiln_lc_version vs[] = {
		{ .version = "2026.01.0", .released = day("2026-01-01") }, { .version = "2026.02.0", .released = day("2026-02-01") }, { .version = "2026.03.0", .released = day("2026-03-01") },
	};
	struct kiln_policy p = { .keep = 1, .disable_after_days = 10, .expire_after_days = 5, .notice_days = 3 };
	struct kiln_lc_dates d;

	(void)state;
	kiln_lifecycle_dates(&p, vs, 3, 0, &d);
	assert_day(d.disabled_at, "2026-02-01");	/* keep=1: when February came, later than Jan 11 */
	assert_day(d.expires_at, "2026-02-06");
	kiln_lifecycle_dates(&p, vs, 3, 1, &d);
	assert_day(d.disabled_at, "2026-03-01");
	kiln_lifecycle_dates(&p, vs, 3, 2, &d);
	assert_false(d.disable_known);
	p.keep = 0;	/* age alone */
	kiln_lifecycle_dates(&p, vs, 3, 2, &d);
	assert_day(d.disabled_at, "2026-03-11");
	p.keep = 5;
	kiln_lifecycle_dates(&p, vs, 3, 0, &d);
	assert_int_equal(d.newer_needed, 3);
}

/*
 * Properties over random histories: the newest `keep` versions released by t
 * are active at t, and what is known at t stays true when later releases come.
 */
static void
test_properties(void **state)
{
	unsigned seed = 12345;

	(void)state;
	for (int run = 0; run < 2000; run++) {
		struct kiln_lc_version vs[24];
		struct kiln_policy p = policy();
		size_t n = 1 + (size_t)(seed = seed * 1103515245 + 12345) % 24;
		time_t t = day("2026-01-01");

		p.keep = 1 + (int)((seed >> 8) % 3);
		p.disable_after_days = 1 + (int)((seed >> 12) % 90);
		p.expire_after_days = (int)((seed >> 16) % 40);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			t += (time_t)((seed >> 4) % (120 * KILN_DAY));	/* gaps from none to four months */
			memset(&vs[i], 0, sizeof(vs[i]));
			vs[i].version = "v";
			vs[i].released = t;
		}
		for (time_t now = vs[0].released; now < t + 200 * KILN_DAY; now += KILN_DAY / 2) {
			size_t released = 0, active_newest = 0;

			for (size_t i = 0; i < n; i++)
				released += vs[i].released <= now;
			for (size_t i = 0; i < released; i++) {
				struct kiln_lc_dates d;

				/* the catalog only knows what was released by now */
				kiln_lifecycle_dates(&p, vs, released, i, &d);
				if (d.disable_known) {
					assert_true(d.disabled_at >= vs[i].released + (time_t)p.disable_after_days * KILN_DAY);
					assert_int_equal(d.expires_at, d.disabled_at + (time_t)p.expire_after_days * KILN_DAY);
				}
				if (i + (size_t)p.keep >= released && kiln_lifecycle_state(&d, now) == KILN_ACTIVE)
					active_newest++;
				/* causality: releases still to come never change a state already in force */
				{
					struct kiln_lc_dates full;

					kiln_lifecycle_dates(&p, vs, n, i, &full);
					assert_int_equal(kiln_lifecycle_state(&full, now), kiln_lifecycle_state(&d, now));
					if (full.disable_known && i + (size_t)p.keep < n)
						assert_true(full.disabled_at >= vs[i + p.keep].released);
				}
			}
			assert_int_equal(active_newest, released < (size_t)p.keep ? released : (size_t)p.keep);
		}
	}
}

/* The deployment table: every action against a version in each state. */
static void
test_deploy_table(void **state)
{
	struct kiln_lc_version vs[] = {
		{ .version = "2026.01.0", .released = day("2026-01-01") }, { .version = "2026.02.0", .released = day("2026-02-01") },
		{ .version = "2026.03.0", .released = day("2026-03-01") }, { .version = "2026.04.0", .released = day("2026-04-01") },
	};
	struct kiln_policy p = policy();
	/* at 2026-04-05: January expired (04-01), February disabled (04-02), March and April active */
	static const struct { size_t i; enum kiln_state state; const char *since; } want[] = {
		{ 0, KILN_EXPIRED, "2026-04-01" }, { 1, KILN_DISABLED, "2026-04-02" }, { 2, KILN_ACTIVE, NULL },
		{ 3, KILN_ACTIVE, NULL },
	};
	static const enum kiln_deploy_action actions[] = { KILN_DEPLOY_CREATE, KILN_DEPLOY_MOVE, KILN_DEPLOY_CHANGE };

	(void)state;
	for (size_t w = 0; w < ARRAY_SIZE(want); w++)
		for (size_t a = 0; a < ARRAY_SIZE(actions); a++) {
			struct kiln_deploy_verdict v;

			kiln_deploy_decide(&p, vs, 4, want[w].i, actions[a], day("2026-04-05"), &v);
			assert_int_equal(v.state, want[w].state);
			/* created on, moved to, changed on: active only; disabled keeps running but is frozen */
			assert_int_equal(v.allowed, want[w].state == KILN_ACTIVE);
			if (want[w].since)
				assert_day(v.since, want[w].since);
		}
	/* a manual disable freezes an active version at once; an extension thaws a disabled one */
	vs[3].disable_at = day("2026-04-03");
	{
		struct kiln_deploy_verdict v;

		kiln_deploy_decide(&p, vs, 4, 3, KILN_DEPLOY_CREATE, day("2026-04-05"), &v);
		assert_false(v.allowed);
		assert_day(v.since, "2026-04-03");
		vs[1].extend_until = day("2026-06-01");
		kiln_deploy_decide(&p, vs, 4, 1, KILN_DEPLOY_MOVE, day("2026-04-05"), &v);
		assert_true(v.allowed);
	}
}

/* The tick plan on a year of monthly releases: who moves where, which states change, which notices are due. */
static void
test_tick_plan(void **state)
{
	struct kiln_lc_version vs[] = {
		{ .version = "2026.01.0", .released = day("2026-01-01") }, { .version = "2026.02.0", .released = day("2026-02-01") },
		{ .version = "2026.03.0", .released = day("2026-03-01") }, { .version = "2026.04.0", .released = day("2026-04-01") },
	};
	enum kiln_state recorded[4] = { KILN_ACTIVE, KILN_ACTIVE, KILN_ACTIVE, KILN_ACTIVE };
	struct kiln_policy p = policy();
	struct kiln_tick_step plan[4];

	(void)state;
	/* 2026-04-05: January expired on 04-01 (disabled 03-02), February disabled on 04-02 (60 days), the rest active */
	kiln_tick_plan(&p, vs, 4, recorded, day("2026-04-05"), plan);
	assert_true(plan[0].transition);
	assert_int_equal(plan[0].state, KILN_EXPIRED);
	assert_day(plan[0].since, "2026-04-01");
	assert_int_equal(plan[0].move, KILN_TICK_FORCED);
	assert_int_equal(plan[0].to, 3);
	assert_day(plan[0].expired_on, "2026-04-01");
	assert_true(plan[1].transition);
	assert_int_equal(plan[1].state, KILN_DISABLED);
	assert_day(plan[1].since, "2026-04-02");
	assert_int_equal(plan[1].move, KILN_TICK_AUTO);	/* disabled: only automatic updates move */
	assert_int_equal(plan[1].to, 3);
	assert_true(plan[1].notice_expire);	/* it expires on 05-02: within 30 days */
	assert_day(plan[1].expires_on, "2026-05-02");
	assert_false(plan[1].notice_disable);	/* already disabled */
	assert_false(plan[2].transition);
	assert_int_equal(plan[2].move, KILN_TICK_AUTO);
	assert_false(plan[2].notice_disable);	/* March has one newer version: no date yet */
	assert_false(plan[3].transition);
	assert_int_equal(plan[3].move, KILN_TICK_STAY);	/* the newest active version stays */
	assert_false(plan[3].notice_disable);
	/* the same tick again, with the states it recorded: nothing changes state */
	recorded[0] = KILN_EXPIRED;
	recorded[1] = KILN_DISABLED;
	kiln_tick_plan(&p, vs, 4, recorded, day("2026-04-05"), plan);
	for (int i = 0; i < 4; i++)
		assert_false(plan[i].transition);
	/* January, with February and March released, disables on 03-02: the notice is due from 01-31 on */
	kiln_tick_plan(&p, vs, 3, NULL, day("2026-03-01"), plan);
	assert_true(plan[0].notice_disable);
	assert_day(plan[0].disables_on, "2026-03-02");
	kiln_tick_plan(&p, vs, 3, NULL, day("2026-01-30"), plan);
	assert_false(plan[0].notice_disable);
	/* every version disabled by hand: there is nowhere to move, nobody moves */
	for (int i = 0; i < 4; i++)
		vs[i].disable_at = day("2026-04-02");
	kiln_tick_plan(&p, vs, 4, NULL, day("2026-06-01"), plan);
	for (int i = 0; i < 4; i++)
		assert_int_equal(plan[i].move, KILN_TICK_STAY);
}

/* Tick plans over random histories: moves go to the newest active version, forced ones only from expired versions. */
static void
test_tick_plan_properties(void **state)
{
	unsigned seed = 777;

	(void)state;
	for (int run = 0; run < 500; run++) {
		struct kiln_lc_version vs[16];
		struct kiln_tick_step plan[16], again[16];
		enum kiln_state rec[16];
		struct kiln_policy p = policy();
		size_t n = 1 + (size_t)(seed = seed * 1103515245 + 12345) % 16;
		time_t t = day("2026-01-01");

		p.keep = (int)((seed >> 8) % 4);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			t += (time_t)((seed >> 4) % (90 * KILN_DAY));
			memset(&vs[i], 0, sizeof(vs[i]));
			vs[i].version = "v";
			vs[i].released = t;
			if ((seed >> 20) % 9 == 0)
				vs[i].disable_at = t + (time_t)((seed >> 8) % 100) * KILN_DAY;
		}
		for (time_t now = vs[0].released; now < t + 150 * KILN_DAY; now += 3 * KILN_DAY) {
			int newest = kiln_lifecycle_newest_active(&p, vs, n, now);

			kiln_tick_plan(&p, vs, n, NULL, now, plan);
			for (size_t i = 0; i < n; i++) {
				struct kiln_lc_dates d;

				kiln_lifecycle_dates(&p, vs, n, i, &d);
				assert_int_equal(plan[i].state, kiln_lifecycle_state(&d, now));
				assert_true(plan[i].transition);	/* nothing recorded: every state is news */
				if (plan[i].move != KILN_TICK_STAY) {
					assert_int_equal((int)plan[i].to, newest);
					assert_int_equal(plan[i].state == KILN_EXPIRED, plan[i].move == KILN_TICK_FORCED);
				}
				assert_true(newest < 0 || plan[i].move != KILN_TICK_STAY || (int)i == newest);
				assert_false(plan[i].notice_disable && plan[i].state != KILN_ACTIVE);
				rec[i] = plan[i].state;
			}
			/* idempotent: with what it recorded, the same tick changes no state and plans the same moves */
			kiln_tick_plan(&p, vs, n, rec, now, again);
			for (size_t i = 0; i < n; i++) {
				assert_false(again[i].transition);
				assert_int_equal(again[i].move, plan[i].move);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_version),
		cmocka_unit_test(test_monthly),
		cmocka_unit_test(test_out_of_band),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_rerelease),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_deploy_table),
		cmocka_unit_test(test_tick_plan),
		cmocka_unit_test(test_tick_plan_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
