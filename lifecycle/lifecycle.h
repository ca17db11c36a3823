/* lifecycle.h - a version's life as a pure function of dates, policy and overrides (the README's lifecycle rules). */
#ifndef KILN_LIFECYCLE_H
#define KILN_LIFECYCLE_H

#include "kiln.h"

#define KILN_DAY 86400

struct kiln_policy {
	int keep;		/* versions that always stay deployable (2) */
	int disable_after_days;	/* 60 */
	int expire_after_days;	/* 30 */
	int notice_days;	/* 30 */
	int health_timeout_s;	/* 180: seconds a started guest has to become healthy */
};

void kiln_policy_default(struct kiln_policy *p);

/* One released version of a family and the operator's overrides of it. */
struct kiln_lc_version {
	const char *version;	/* YYYY.MM.R; the array is sorted by it */
	time_t released;
	time_t disable_at;	/* kiln version disable: disabled from then on (0: none) */
	time_t extend_until;	/* kiln version extend: active at least until then (0: none) */
	time_t expire_at;	/* an operator's expiry date (0: none) */
};

enum kiln_state { KILN_ACTIVE, KILN_DISABLED, KILN_EXPIRED };

struct kiln_lc_dates {
	int disable_known;	/* disabled_at is a date ... */
	time_t disabled_at;
	int newer_needed;	/* ... else it needs this many newer releases first */
	int expire_known;
	time_t expires_at;
};

/*
 * kiln_lifecycle_dates() - when version @i of @vs (sorted by version, n
 * entries) is disabled and expires under @p:
 *   disabled_at = the later of released + disable_after_days and the release
 *   of the keep-th newer version (unknown until that version exists), moved
 *   earlier by a manual disable and later by an extension;
 *   expires_at = disabled_at + expire_after_days, or the operator's date.
 */
void kiln_lifecycle_dates(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n, size_t i,
			  struct kiln_lc_dates *ret);

/* The state at @now for those dates. */
enum kiln_state kiln_lifecycle_state(const struct kiln_lc_dates *d, time_t now);
const char *kiln_state_name(enum kiln_state s);

/* The newest version of @vs active at @now, or -1. */
int kiln_lifecycle_newest_active(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n, time_t now);

/* What a deployment asks of a version. */
enum kiln_deploy_action {
	KILN_DEPLOY_CREATE,	/* a new deployment on it */
	KILN_DEPLOY_MOVE,	/* an existing one moves to it */
	KILN_DEPLOY_CHANGE,	/* one running on it changes code or configuration, staying on it */
};

struct kiln_deploy_verdict {
	int allowed;
	enum kiln_state state;	/* of the version asked about */
	time_t since;		/* when it became disabled or expired (refusals) */
};

/*
 * kiln_deploy_decide() - the deployment rules: created on, moved to and
 * changed on an active version only (a deployment on a disabled version keeps
 * running, and may change only by also moving to an active one: that is a
 * MOVE). @i is the version asked about in @vs (n, sorted).
 */
void kiln_deploy_decide(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n, size_t i,
			enum kiln_deploy_action a, time_t now, struct kiln_deploy_verdict *ret);

/* What a tick does to the deployments of one version. */
enum kiln_tick_move {
	KILN_TICK_STAY,		/* nothing */
	KILN_TICK_FORCED,	/* every deployment moves to @to, automatic updates on: the version expired */
	KILN_TICK_AUTO,		/* deployments with automatic updates move to @to, the newest active version */
};

/*
 * One step of a tick plan: for version @i of a family, its transition (when
 * its state differs from the one recorded), the move of its deployments and
 * the notices due. A plan is a pure function of the versions, the policy,
 * the recorded states and the clock; the catalog carries it out.
 */
struct kiln_tick_step {
	size_t i;
	int transition;		/* the state changed: */
	enum kiln_state state;	/* ... to this, */
	time_t since;		/* ... on this day (disabled_at, expires_at, or now for active) */
	enum kiln_tick_move move;
	size_t to;		/* for a move: the version moved to */
	time_t expired_on;	/* KILN_TICK_FORCED: expires_at, for the reason */
	int notice_disable, notice_expire;	/* due now (once per deployment: the catalog remembers) */
	time_t disables_on, expires_on;
};

/*
 * kiln_tick_plan() - a tick at @now for one family: one step per version
 * of @vs (n entries, sorted), whose recorded states are @recorded (NULL:
 * none known). Fills @ret[n].
 */
void kiln_tick_plan(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n,
		    const enum kiln_state *recorded, time_t now, struct kiln_tick_step *ret);

#endif
