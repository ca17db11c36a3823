/*
 * window.h - maintenance windows: when the executor may touch a deployment.
 *
 * A window recurs weekly on the days it names, starts at a time of day (UTC)
 * and lasts 60 to 235 minutes, the range cloud update managers allow. Its
 * text form is "DAYS HH:MM+DURATION": DAYS is "daily" or a comma-separated
 * list of Mon..Sun (ranges "Mon-Fri" too), DURATION is minutes ("120m"),
 * hours ("2h") or both ("1h30m"). A window may cross midnight; it belongs to
 * the day it starts on. Pure functions: no clock, no I/O.
 */
#ifndef KILN_WINDOW_H
#define KILN_WINDOW_H

#include <time.h>

#define KILN_WINDOW_MIN_MINUTES 60
#define KILN_WINDOW_MAX_MINUTES 235

struct kiln_window {
	unsigned days;		/* bit 0 Sunday .. bit 6 Saturday (struct tm's tm_wday) */
	int start;		/* minutes after midnight UTC, 0..1439 */
	int minutes;		/* how long it lasts */
};

/*
 * kiln_window_parse() - @s into @w. Returns 0, or -1 with *@ret_why (a
 * static string) saying what is wrong: the caller makes it a usage error.
 */
int kiln_window_parse(const char *s, struct kiln_window *w, const char **ret_why);

/* The canonical text of @w ("Sat,Sun 02:00+120m", "daily 23:30+60m"), into @buf of @size bytes. */
void kiln_window_format(const struct kiln_window *w, char *buf, size_t size);

/*
 * kiln_window_at() - is @now inside an occurrence of @w? Returns 1 and the
 * occurrence's end in *@ret_end (when not NULL), else 0 and the start of the
 * next occurrence in *@ret_next (when not NULL). A start is inside, an end
 * is not.
 */
int kiln_window_at(const struct kiln_window *w, time_t now, time_t *ret_end, time_t *ret_next);

#endif
