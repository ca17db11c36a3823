/* test-window.c - maintenance windows: syntax, canonical text, and where a moment falls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kiln.h"
#include "window.h"

static time_t
at(const char *iso)
{
	time_t t;

	assert_int_equal(kiln_parse_iso8601(iso, &t), 0);
	return t;
}

static void
test_parse(void **state)
{
	static const struct { const char *in, *canonical; unsigned days; int start, minutes; } good[] = {
		{ "Sun 02:00+120m", "Sun 02:00+120m", 0x01, 120, 120 },
		{ "sun 02:00+2h", "Sun 02:00+120m", 0x01, 120, 120 },
		{ "Sat,Sun 23:30+1h30m", "Sat,Sun 23:30+90m", 0x41, 1410, 90 },
		{ "Mon-Fri 00:00+60m", "Mon,Tue,Wed,Thu,Fri 00:00+60m", 0x3e, 0, 60 },
		{ "Fri-Mon 12:05+235m", "Mon,Fri,Sat,Sun 12:05+235m", 0x63, 725, 235 },
		{ "daily 23:59+3h", "daily 23:59+180m", 0x7f, 1439, 180 },
		{ "Mon-Sun 01:00+1h", "daily 01:00+60m", 0x7f, 60, 60 },
		{ "Wed,Wed 10:00+100m", "Wed 10:00+100m", 0x08, 600, 100 },
	};
	static const char *const bad[] = {
		"", "Sun", "Sun ", "02:00+120m", " Sun 02:00+120m", "Sun 02:00+59m", "Sun 02:00+236m",
		"Sun 02:00+4h", "Sun 24:00+60m", "Sun 02:60+60m", "Sun 2:00+60m", "Sun 02:00", "Sun 02:00+",
		"Sun 02:00+60", "Sun 02:00+60s", "Sun 02:00+1h30", "Sun 02:00+1h30m ", "Sun 02:00+-60m",
		"Sun,  02:00+60m", "Sun, 02:00+60m", "Sunday 02:00+60m", "Sun-Xyz 02:00+60m", ",Sun 02:00+60m",
		"Sun 02:00+0060m", "Sun 02:00+60m60m", "Sun  02:00+60m", "daily,Mon 02:00+60m",
		"Sun 02:00+120mxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	struct kiln_window w;
	const char *why;
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(kiln_window_parse(good[i].in, &w, &why), 0);
		assert_int_equal(w.days, good[i].days);
		assert_int_equal(w.start, good[i].start);
		assert_int_equal(w.minutes, good[i].minutes);
		kiln_window_format(&w, buf, sizeof(buf));
		assert_string_equal(buf, good[i].canonical);
		/* the canonical text reads back as the same window */
		assert_int_equal(kiln_window_parse(buf, &w, &why), 0);
		assert_int_equal(w.days, good[i].days);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		assert_int_equal(kiln_window_parse(bad[i], &w, &why), -1);
		assert_non_null(why);
	}
	assert_int_equal(kiln_window_parse("Sun 02:00+59m", &w, &why), -1);
	assert_non_null(strstr(why, "60 to 235 minutes"));
}

static void
test_at(void **state)
{
	struct kiln_window w;
	const char *why;
	time_t end = 0, next = 0;

	(void)state;
	/* 2026-11-29 is a Sunday */
	assert_int_equal(kiln_window_parse("Sun 02:00+120m", &w, &why), 0);
	assert_int_equal(kiln_window_at(&w, at("2026-11-29T02:00:00Z"), &end, &next), 1);
	assert_int_equal(end, at("2026-11-29T04:00:00Z"));
	assert_int_equal(kiln_window_at(&w, at("2026-11-29T03:59:59Z"), &end, NULL), 1);
	assert_int_equal(kiln_window_at(&w, at("2026-11-29T04:00:00Z"), NULL, &next), 0);	/* an end is outside */
	assert_int_equal(next, at("2026-12-06T02:00:00Z"));
	assert_int_equal(kiln_window_at(&w, at("2026-11-29T01:59:59Z"), NULL, &next), 0);
	assert_int_equal(next, at("2026-11-29T02:00:00Z"));
	assert_int_equal(kiln_window_at(&w, at("2026-11-25T09:00:00Z"), NULL, &next), 0);	/* a Wednesday */
	assert_int_equal(next, at("2026-11-29T02:00:00Z"));

	/* across midnight and across the week: Saturday 23:00 for 3 h ends Sunday 02:00 */
	assert_int_equal(kiln_window_parse("Sat 23:00+3h", &w, &why), 0);
	assert_int_equal(kiln_window_at(&w, at("2026-11-29T01:30:00Z"), &end, NULL), 1);
	assert_int_equal(end, at("2026-11-29T02:00:00Z"));
	assert_int_equal(kiln_window_at(&w, at("2026-11-29T02:00:00Z"), NULL, &next), 0);
	assert_int_equal(next, at("2026-12-05T23:00:00Z"));

	/* before 1970 and far ahead, the weekday arithmetic holds (1969-12-28 was a Sunday) */
	assert_int_equal(kiln_window_parse("Sun 00:00+60m", &w, &why), 0);
	assert_int_equal(kiln_window_at(&w, at("1969-12-28T00:30:00Z"), NULL, NULL), 1);
	assert_int_equal(kiln_window_at(&w, at("2100-01-03T00:59:59Z"), NULL, NULL), 1);
}

/*
 * Against a brute force: for random windows and moments, minute by minute
 * over the next eight days, "inside" agrees with the definition and the next
 * start is the first inside minute.
 */
static int
inside_by_definition(const struct kiln_window *w, time_t t)
{
	for (int back = 0; back < 2; back++) {
		time_t day0 = t - ((t % 86400) + 86400) % 86400 - (time_t)back * 86400;
		int wday = (int)((((day0 / 86400) + 4) % 7 + 7) % 7);
		time_t s = day0 + (time_t)w->start * 60;

		if ((w->days & (1u << wday)) && s <= t && t < s + (time_t)w->minutes * 60)
			return 1;
	}
	return 0;
}

static void
test_properties(void **state)
{
	unsigned seed = 20261125;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct kiln_window w = {
			.days = (unsigned)(rand_r(&seed) % 127) + 1,
			.start = rand_r(&seed) % 1440,
			.minutes = KILN_WINDOW_MIN_MINUTES + rand_r(&seed) % (KILN_WINDOW_MAX_MINUTES - KILN_WINDOW_MIN_MINUTES + 1),
		};
		time_t now = 1700000000 + (time_t)(rand_r(&seed) % (400 * 86400)) - 200 * 86400;
		time_t end = 0, next = 0, first = 0;
		int in = kiln_window_at(&w, now, &end, &next);

		assert_int_equal(in, inside_by_definition(&w, now));
		if (in) {
			assert_true(end > now && end - now <= w.minutes * 60);
			assert_false(inside_by_definition(&w, end));
			assert_true(inside_by_definition(&w, end - 1));
			continue;
		}
		for (time_t t = now - now % 60 + 60; t < now + 8 * 86400; t += 60)
			if (inside_by_definition(&w, t)) {
				first = t;
				break;
			}
		assert_int_equal(next, first);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_at),
		cmocka_unit_test(test_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
