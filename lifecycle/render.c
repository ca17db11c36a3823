/* render.c - the catalog's records as JSON, for the CLI and the HTTP API alike. */
#include "render.h"

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
