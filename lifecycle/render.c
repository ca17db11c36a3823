/* render.c - the catalog's records as JSON, for the CLI and the HTTP API alike. */
#include "render.h"

#include <string.h>

json_t *
kiln_day_json(int known, time_t t)
{
	char s[21];

	if (!known)
		return json_null();
	kiln_format_iso8601(t, s);
	s[10] = '\0';
	return json_string(s);
}

json_t *
kiln_deployment_json(const struct kiln_deployment *d)
{
	json_t *config = d->config ? json_loads(d->config, 0, NULL) : NULL;

	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "tenant", d->tenant, "name", d->name, "family",
			 d->family, "version", d->version, "auto_update", d->auto_update, "config",
			 json_is_object(config) ? config : (json_decref(config), json_object()),
			 "created", kiln_day_json(1, d->created), "updated", kiln_day_json(1, d->updated));
}

json_t *
kiln_deployments_json(const struct kiln_deployment *d, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, kiln_deployment_json(&d[i]));
	return a;
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *
kiln_event_json(const struct kiln_event *e)
{
	char at[21];

	kiln_format_iso8601(e->at, at);
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)e->id, "at", at, "kind",
			 e->kind, "tenant", str_or_null(e->tenant), "deployment", str_or_null(e->deployment), "family",
			 str_or_null(e->family), "version", str_or_null(e->version), "from", str_or_null(e->from), "to",
			 str_or_null(e->to), "reason", str_or_null(e->reason));
}

json_t *
kiln_events_json(const struct kiln_event *e, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, kiln_event_json(&e[i]));
	return a;
}

json_t *
kiln_version_info_json(const struct kiln_version_info *v)
{
	const struct kiln_lc_dates *d = &v->dates;

	char at[21] = "";

	if (v->assessed)
		kiln_format_iso8601(v->assessed_at, at);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:o}", "family", v->family, "version", v->version,
			 "state", kiln_state_name(v->state), "released", kiln_day_json(1, v->released),
			 "disables_on", kiln_day_json(d->disable_known, d->disabled_at),
			 "expires_on", kiln_day_json(d->expire_known, d->expires_at),
			 "disable_forecast", d->disable_known ? json_null()
				 : json_sprintf("after %d newer release%s", d->newer_needed, d->newer_needed == 1 ? "" : "s"),
			 "security_updates", v->security_updates,
			 /* what kiln assess last found pending (null: never assessed) */
			 "pending_security", v->assessed ? json_integer(v->pending_security) : json_null(),
			 "pending_other", v->assessed ? json_integer(v->pending_other) : json_null(),
			 "assessed", v->assessed ? json_string(at) : json_null());
}

json_t *
kiln_version_infos_json(const struct kiln_version_info *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, kiln_version_info_json(&v[i]));
	return a;
}

json_t *
kiln_families_json(const struct kiln_version_info *v, size_t n)
{
	json_t *out = json_array();

	for (size_t i = 0; i < n; ) {
		size_t j = i, active = 0;
		const char *newest = NULL;

		for (; j < n && strcmp(v[j].family, v[i].family) == 0; j++)
			if (v[j].state == KILN_ACTIVE && active++ == 0)
				newest = v[j].version;
		json_array_append_new(out, json_pack("{s:s, s:i, s:i, s:o}", "family", v[i].family, "versions", (int)(j - i),
						     "active", (int)active, "newest_active",
						     newest ? json_string(newest) : json_null()));
		i = j;
	}
	return out;
}
