/* window.c - maintenance windows: parsing, printing, and where a moment falls. */
#include "window.h"
#include "kiln.h"
#include "lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static int
day_of(const char *s, size_t len)
{
	for (int d = 0; d < 7; d++)
		if (len == 3 && strncasecmp(s, day_names[d], 3) == 0)
			return d;
	return -1;
}

/* "Mon", "Mon-Fri" (wrapping: "Fri-Mon"), comma-separated; or "daily". */
static int
parse_days(const char *s, size_t len, unsigned *ret)
{
	unsigned days = 0;

	if (len == 5 && strncmp(s, "daily", 5) == 0) {
		*ret = 0x7f;
		return 0;
	}
	while (len) {
		size_t item = 0, dash;
		int a, b;

		while (item < len && s[item] != ',')
			item++;
		dash = 0;
		while (dash < item && s[dash] != '-')
			dash++;
		a = day_of(s, dash);
		b = dash < item ? day_of(s + dash + 1, item - dash - 1) : a;
		if (a < 0 || b < 0)
			return -1;
		for (int d = a;; d = (d + 1) % 7) {
			days |= 1u << d;
			if (d == b)
				break;
		}
		if (item == len)
			break;
		s += item + 1;
		len -= item + 1;
		if (!len)
			return -1;	/* a trailing comma */
	}
	*ret = days;
	return 0;
}

/* 1..3 digits, nothing else counted: no sign, no spaces. */
static int
digits(const char **p, int max_digits, int *ret)
{
	int n = 0, v = 0;

	while (**p >= '0' && **p <= '9' && n < max_digits) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (!n || (**p >= '0' && **p <= '9'))
		return -1;
	*ret = v;
	return 0;
}

int
kiln_window_parse(const char *s, struct kiln_window *w, const char **ret_why)
{
	const char *sp = strchr(s, ' '), *p;
	int h, m, total = 0, v;

	*ret_why = "use DAYS HH:MM+DURATION, e.g. 'Sun 02:00+120m'";
	if (!sp || sp == s || strlen(s) > 64)
		return -1;
	if (parse_days(s, sp - s, &w->days) < 0) {
		*ret_why = "days are 'daily' or Mon..Sun, comma-separated, ranges like Mon-Fri";
		return -1;
	}
	p = sp + 1;
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] != ':' ||
	    p[3] < '0' || p[3] > '9' || p[4] < '0' || p[4] > '9' || p[5] != '+') {
		*ret_why = "the start is HH:MM (UTC), then '+' and the duration";
		return -1;
	}
	h = (p[0] - '0') * 10 + (p[1] - '0');
	m = (p[3] - '0') * 10 + (p[4] - '0');
	if (h > 23 || m > 59) {
		*ret_why = "the start is HH:MM (UTC), 00:00 to 23:59";
		return -1;
	}
	w->start = h * 60 + m;
	p += 6;
	if (!*p) {
		*ret_why = "the duration is minutes ('120m'), hours ('2h') or both ('1h30m')";
		return -1;
	}
	if (digits(&p, 3, &v) < 0)
		goto bad_duration;
	if (*p == 'h') {
		total = v * 60;
		p++;
		if (*p) {
			if (digits(&p, 3, &v) < 0 || *p != 'm')
				goto bad_duration;
			total += v;
			p++;
		}
	} else if (*p == 'm') {
		total = v;
		p++;
	} else {
		goto bad_duration;
	}
	if (*p)
		goto bad_duration;
	if (total < KILN_WINDOW_MIN_MINUTES || total > KILN_WINDOW_MAX_MINUTES) {
		*ret_why = "a window lasts 60 to 235 minutes";
		return -1;
	}
	w->minutes = total;
	return 0;
bad_duration:
	*ret_why = "the duration is minutes ('120m'), hours ('2h') or both ('1h30m')";
	return -1;
}

void
kiln_window_format(const struct kiln_window *w, char *buf, size_t size)
{
	struct kiln_buf b = { 0 };
	char *s;

	if (w->days == 0x7f) {
		kiln_buf_addf(&b, "daily");
	} else {
		for (int d = 0; d < 7; d++) {
			int first = (d + 1) % 7;	/* Monday first, as people write weeks */

			if (w->days & (1u << first))
				kiln_buf_addf(&b, "%s%s", b.len ? "," : "", day_names[first]);
		}
	}
	kiln_buf_addf(&b, " %02d:%02d+%dm", w->start / 60, w->start % 60, w->minutes);
	s = kiln_buf_detach(&b, NULL);
	snprintf(buf, size, "%s", s);
	free(s);
}

int
kiln_window_at(const struct kiln_window *w, time_t now, time_t *ret_end, time_t *ret_next)
{
	time_t midnight = now - (((now % KILN_DAY) + KILN_DAY) % KILN_DAY);
	/* 1970-01-01 was a Thursday */
	long long day = (long long)(midnight / KILN_DAY);
	int wday = (int)(((day + 4) % 7 + 7) % 7);

	/* yesterday's occurrence may still run (windows cross midnight), then today's, then the next 7 days' */
	for (int k = -1; k <= 7; k++) {
		int d = ((wday + k) % 7 + 7) % 7;
		time_t start = midnight + (time_t)k * KILN_DAY + (time_t)w->start * 60;
		time_t end = start + (time_t)w->minutes * 60;

		if (!(w->days & (1u << d)) || end <= now)
			continue;
		if (start <= now) {
			if (ret_end)
				*ret_end = end;
			return 1;
		}
		if (ret_next)
			*ret_next = start;
		return 0;
	}
	if (ret_next)
		*ret_next = 0;	/* no day set: never */
	return 0;
}
