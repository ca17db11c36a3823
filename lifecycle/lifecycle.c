/* lifecycle.c - disabled_at, expires_at and state: pure functions, no I/O (the README's lifecycle rules). */
#include "lifecycle.h"

#include <string.h>

void
kiln_policy_default(struct kiln_policy *p)
{
	p->keep = 2;
	p->disable_after_days = 60;
	p->expire_after_days = 30;
	p->notice_days = 30;
	p->health_timeout_s = 180;
}

void
kiln_lifecycle_dates(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n, size_t i,
		     struct kiln_lc_dates *ret)
{
	const struct kiln_lc_version *v = &vs[i];
	size_t newer = n - i - 1;
	struct kiln_lc_dates d = { 0 };

	if (p->keep <= 0 || newer >= (size_t)p->keep) {
		time_t by_age = v->released + (time_t)p->disable_after_days * KILN_DAY;
		time_t by_keep = p->keep > 0 ? vs[i + p->keep].released : 0;

		d.disable_known = 1;
		d.disabled_at = by_age > by_keep ? by_age : by_keep;
	} else {
		d.newer_needed = (int)(p->keep - newer);
	}
	if (d.disable_known && v->extend_until && v->extend_until > d.disabled_at)
		d.disabled_at = v->extend_until;
	if (v->disable_at && (!d.disable_known || v->disable_at < d.disabled_at)) {
		d.disable_known = 1;
		d.disabled_at = v->disable_at;
		d.newer_needed = 0;
	}
	if (v->expire_at) {
		d.expire_known = 1;
		d.expires_at = v->expire_at;
		if (d.disable_known && d.expires_at < d.disabled_at)
			d.disabled_at = d.expires_at;	/* expiry implies disabled */
		else if (!d.disable_known) {
			d.disable_known = 1;
			d.disabled_at = d.expires_at;
			d.newer_needed = 0;
		}
	} else if (d.disable_known) {
		d.expire_known = 1;
		d.expires_at = d.disabled_at + (time_t)p->expire_after_days * KILN_DAY;
	}
	*ret = d;
}

enum kiln_state
kiln_lifecycle_state(const struct kiln_lc_dates *d, time_t now)
{
	if (d->expire_known && now >= d->expires_at)
		return KILN_EXPIRED;
	if (d->disable_known && now >= d->disabled_at)
		return KILN_DISABLED;
	return KILN_ACTIVE;
}

const char *
kiln_state_name(enum kiln_state s)
{
	switch (s) {
	case KILN_ACTIVE: return "active";
	case KILN_DISABLED: return "disabled";
	default: return "expired";
	}
}

int
kiln_lifecycle_newest_active(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n, time_t now)
{
	for (size_t i = n; i-- > 0; ) {
		struct kiln_lc_dates d;

		kiln_lifecycle_dates(p, vs, n, i, &d);
		if (kiln_lifecycle_state(&d, now) == KILN_ACTIVE)
			return (int)i;
	}
	return -1;
}

void
kiln_tick_plan(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n,
	       const enum kiln_state *recorded, time_t now, struct kiln_tick_step *ret)
{
	int newest = kiln_lifecycle_newest_active(p, vs, n, now);
	time_t notice = (time_t)p->notice_days * KILN_DAY;

	for (size_t i = 0; i < n; i++) {
		struct kiln_tick_step *s = &ret[i];
		struct kiln_lc_dates d;

		memset(s, 0, sizeof(*s));
		s->i = i;
		kiln_lifecycle_dates(p, vs, n, i, &d);
		s->state = kiln_lifecycle_state(&d, now);
		s->transition = !recorded || recorded[i] != s->state;
		s->since = s->state == KILN_EXPIRED ? d.expires_at : s->state == KILN_DISABLED ? d.disabled_at : now;
		/* expired: everyone goes to the newest active version; else only automatic updates follow it */
		if (newest >= 0 && s->state == KILN_EXPIRED) {
			s->move = KILN_TICK_FORCED;
			s->to = (size_t)newest;
			s->expired_on = d.expires_at;
		} else if (newest >= 0 && i != (size_t)newest) {
			s->move = KILN_TICK_AUTO;
			s->to = (size_t)newest;
		}
		s->notice_disable = s->state == KILN_ACTIVE && d.disable_known && now >= d.disabled_at - notice;
		s->notice_expire = s->state != KILN_EXPIRED && d.expire_known && now >= d.expires_at - notice;
		s->disables_on = d.disabled_at;
		s->expires_on = d.expires_at;
	}
}

void
kiln_deploy_decide(const struct kiln_policy *p, const struct kiln_lc_version *vs, size_t n, size_t i,
		   enum kiln_deploy_action a, time_t now, struct kiln_deploy_verdict *ret)
{
	struct kiln_lc_dates d;
	struct kiln_deploy_verdict v = { 0 };

	(void)a;	/* the same rule for all three today: the table says active, and only active */
	kiln_lifecycle_dates(p, vs, n, i, &d);
	v.state = kiln_lifecycle_state(&d, now);
	v.allowed = v.state == KILN_ACTIVE;
	v.since = v.state == KILN_EXPIRED ? d.expires_at : v.state == KILN_DISABLED ? d.disabled_at : 0;
	*ret = v;
}
