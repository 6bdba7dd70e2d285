/* SPDX-License-Identifier: MIT */
/*
 * The single home of trend/direction tables: Nightscout's direction names,
 * Dexcom's numeric trend (0..9), and the direction for a rate of change.
 */
#ifndef NSC_SRC_TREND_H
#define NSC_SRC_TREND_H

#include <stdbool.h>

/* Values are Dexcom's numeric trend, which Nightscout stores as `trend`. */
enum nsc_trend {
	NSC_TREND_NONE = 0,
	NSC_TREND_DOUBLE_UP = 1,
	NSC_TREND_SINGLE_UP = 2,
	NSC_TREND_FORTY_FIVE_UP = 3,
	NSC_TREND_FLAT = 4,
	NSC_TREND_FORTY_FIVE_DOWN = 5,
	NSC_TREND_SINGLE_DOWN = 6,
	NSC_TREND_DOUBLE_DOWN = 7,
	NSC_TREND_NOT_COMPUTABLE = 8,
	NSC_TREND_RATE_OUT_OF_RANGE = 9,
};
#define NSC_TREND_COUNT 10

/* Nightscout direction string for a trend ("Flat", "NOT COMPUTABLE", …). */
const char *nsc_trend_direction(enum nsc_trend t);

/*
 * Trend from a direction string or number as vendors send it: Nightscout
 * names ("SingleUp"), Dexcom numbers ("4" or 4 as text), and the spellings
 * Share uses ("NotComputable", "RateOutOfRange", "None"). Case-insensitive.
 * Returns false (and NSC_TREND_NONE) when unknown.
 */
bool nsc_trend_parse(const char *text, enum nsc_trend *out);

/*
 * Direction from a rate of change in mg/dL per minute, with Dexcom's
 * thresholds: >= 3 DoubleUp, >= 2 SingleUp, >= 1 FortyFiveUp, > -1 Flat,
 * > -2 FortyFiveDown, > -3 SingleDown, else DoubleDown.
 */
enum nsc_trend nsc_trend_from_rate(double mgdl_per_min);

#endif
