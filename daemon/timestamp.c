/* Time as unikd stores and shows it (see timestamp.h). */
#include "config.h"

#include <time.h>

#include "timestamp.h"

int64_t
unikd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
unikd_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

json_t *
unikd_json_time(int64_t secs)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)secs;

	if (secs == 0)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(when);
}
