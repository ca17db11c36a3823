/*
 * render.h - the catalog's records as the JSON users see (the CLI's --json
 * and the HTTP API alike): one renderer per record, the records plain structs.
 */
#ifndef KILN_RENDER_H
#define KILN_RENDER_H

#include "catalog.h"

#include <jansson.h>

/* {tenant, name, family, version, auto_update, config, created, updated} */
json_t *kiln_deployment_json(const struct kiln_deployment *d);
json_t *kiln_deployments_json(const struct kiln_deployment *d, size_t n);

/* {id, at, kind, tenant, deployment, family, version, from, to, reason} (absent fields null) */
json_t *kiln_event_json(const struct kiln_event *e);
json_t *kiln_events_json(const struct kiln_event *e, size_t n);

/* {family, version, state, released, disables_on, expires_on, disable_forecast, security_updates} */
json_t *kiln_version_info_json(const struct kiln_version_info *v);
json_t *kiln_version_infos_json(const struct kiln_version_info *v, size_t n);

/* [{family, versions, active, newest_active}] from versions listed newest first, by family */
json_t *kiln_families_json(const struct kiln_version_info *v, size_t n);

/* "YYYY-MM-DD" of @t, or null when not @known. */
json_t *kiln_day_json(int known, time_t t);

#endif
