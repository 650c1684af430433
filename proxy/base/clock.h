/* clock.h - the wall clock in milliseconds, for timestamps shown to operators. */
#ifndef GP_CLOCK_H
#define GP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the epoch (CLOCK_REALTIME): /status and /metrics timestamps only;
 * intervals use the loop's monotonic clock. */
static inline int64_t gp_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
