/* SPDX-License-Identifier: MIT */
/*
 * Trend/direction table: Dexcom's numeric trend, Nightscout's direction
 * names, the extra spellings Dexcom Share sends, and rate -> direction.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <strings.h>

#include "trend.h"

static const struct {
	const char *direction; /* Nightscout's name, stored as `direction` */
	const char *share;     /* Share's spelling when it differs, else NULL */
} trend_table[NSC_TREND_COUNT] = {
	[NSC_TREND_NONE] = { "NONE", NULL },
	[NSC_TREND_DOUBLE_UP] = { "DoubleUp", NULL },
	[NSC_TREND_SINGLE_UP] = { "SingleUp", NULL },
	[NSC_TREND_FORTY_FIVE_UP] = { "FortyFiveUp", NULL },
	[NSC_TREND_FLAT] = { "Flat", NULL },
	[NSC_TREND_FORTY_FIVE_DOWN] = { "FortyFiveDown", NULL },
	[NSC_TREND_SINGLE_DOWN] = { "SingleDown", NULL },
	[NSC_TREND_DOUBLE_DOWN] = { "DoubleDown", NULL },
	[NSC_TREND_NOT_COMPUTABLE] = { "NOT COMPUTABLE", "NotComputable" },
	[NSC_TREND_RATE_OUT_OF_RANGE] = { "RATE OUT OF RANGE", "RateOutOfRange" },
};

const char *nsc_trend_direction(enum nsc_trend t)
{
	if ((unsigned)t >= NSC_TREND_COUNT)
		return trend_table[NSC_TREND_NONE].direction;
	return trend_table[t].direction;
}

bool nsc_trend_parse(const char *text, enum nsc_trend *out)
{
	enum nsc_trend result = NSC_TREND_NONE;
	bool found = false;

	if (text) {
		if (text[0] >= '0' && text[0] <= '9' && text[1] == '\0') {
			result = (enum nsc_trend)(text[0] - '0');
			found = true;
		}
		for (unsigned i = 0; !found && i < NSC_TREND_COUNT; i++) {
			if (strcasecmp(text, trend_table[i].direction) == 0 ||
			    (trend_table[i].share && strcasecmp(text, trend_table[i].share) == 0)) {
				result = (enum nsc_trend)i;
				found = true;
			}
		}
	}
	if (out)
		*out = result;
	return found;
}

enum nsc_trend nsc_trend_from_rate(double mgdl_per_min)
{
	if (isnan(mgdl_per_min))
		return NSC_TREND_NOT_COMPUTABLE;
	if (mgdl_per_min >= 3)
		return NSC_TREND_DOUBLE_UP;
	if (mgdl_per_min >= 2)
		return NSC_TREND_SINGLE_UP;
	if (mgdl_per_min >= 1)
		return NSC_TREND_FORTY_FIVE_UP;
	if (mgdl_per_min > -1)
		return NSC_TREND_FLAT;
	if (mgdl_per_min > -2)
		return NSC_TREND_FORTY_FIVE_DOWN;
	if (mgdl_per_min > -3)
		return NSC_TREND_SINGLE_DOWN;
	return NSC_TREND_DOUBLE_DOWN;
}
