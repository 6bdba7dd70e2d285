/* SPDX-License-Identifier: MIT */
/*
 * The simulator's model: pure functions of the seed and the time. The
 * glucose curve, the meals and corrections of each UTC day, the insulin
 * those boluses leave on board, the pump's reservoir and batteries and the
 * phone's battery, and the therapy settings the boluses are dosed with.
 * The driver (simulator.c) turns them into a vendor-shaped payload.
 */
#ifndef NSC_SRC_SOURCES_SIMULATOR_MODEL_H
#define NSC_SRC_SOURCES_SIMULATOR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSC_SIM_MAX_EVENTS_PER_DAY 4 /* three meals and at most one correction */

/*
 * When the simulated therapy settings start: 2020-01-01T00:00:00.000Z, before
 * any reading a run fetches. The profile document carries this time, so it
 * is the same document on every run.
 */
#define NSC_SIM_PROFILE_START_MS INT64_C(1577836800000)

#define NSC_SIM_DIA_HOURS 4          /* insulin on board falls linearly to 0 over 4 h */
#define NSC_SIM_RESERVOIR_FILL 200.0 /* units put in at each reservoir change */
#define NSC_SIM_CARBS_PER_HOUR 20    /* the profile's carb absorption rate, g/h */
#define NSC_SIM_CARB_DELAY_MIN 20    /* and its absorption delay */
#define NSC_SIM_TARGET_LOW 100       /* mg/dL */
#define NSC_SIM_TARGET_HIGH 120

enum nsc_sim_event_kind {
	NSC_SIM_MEAL,
	NSC_SIM_CORRECTION,
};

struct nsc_sim_event {
	enum nsc_sim_event_kind kind;
	int64_t t_ms;
	int carbs;      /* grams; 0 for a correction */
	double insulin; /* units, multiples of 0.5 */
};

/* Hash domains, so each random choice draws from its own stream. */
enum nsc_sim_tag {
	NSC_SIM_TAG_MEAL_SHIFT = 1,
	NSC_SIM_TAG_CARBS,
	NSC_SIM_TAG_BASE,
	NSC_SIM_TAG_CORRECTION_DAY,
	NSC_SIM_TAG_ICR,
	NSC_SIM_TAG_CORRECTION_UNITS,
	NSC_SIM_TAG_CORRECTION_DELAY,
	NSC_SIM_TAG_RHYTHM,
	NSC_SIM_TAG_NOISE,
	NSC_SIM_TAG_TOKEN, /* the driver's session tokens */
};

/* splitmix64: the mixing step every random choice of the model uses. */
uint64_t nsc_sim_mix(uint64_t x);

/* a / b rounded toward minus infinity (b > 0). */
int64_t nsc_sim_floor_div(int64_t a, int64_t b);

/* The meals and corrections of UTC day `day` (days since 1970), in time order. */
size_t nsc_sim_day_events(uint64_t seed, int64_t day,
			  struct nsc_sim_event ev[NSC_SIM_MAX_EVENTS_PER_DAY]);

/* Glucose (mg/dL) at instant t_ms, noise blended between 5-minute slots. */
int nsc_sim_glucose(uint64_t seed, int64_t t_ms);

/*
 * The span a reading's delta covers: one cadence, but never less than 5
 * minutes (at a fast test cadence a one-step change of 1 mg/dL would read
 * as a steep arrow).
 */
int64_t nsc_sim_delta_span_ms(int64_t slot_ms);

/* The pump and the phone at one instant. */
struct nsc_sim_pump {
	double iob;           /* units on board from the boluses, to 0.01 U */
	double reservoir;     /* units left, to 0.1 U */
	int battery_percent;  /* pump battery, 41..100, changed every 10 days */
	int uploader_percent; /* phone battery, 40..100, charged every night */
	bool bolusing;        /* a bolus is being delivered (1.5 U/min) */
};

void nsc_sim_pump_at(uint64_t seed, int64_t t_ms, struct nsc_sim_pump *out);

/* A scheduled value from `minute` of the UTC day on. */
struct nsc_sim_rate {
	int minute;
	double value;
};

/* The therapy settings the simulated boluses are dosed with. */
struct nsc_sim_therapy {
	int carb_ratio;     /* grams per unit (the meal boluses are carbs / ratio) */
	int sensitivity;    /* mg/dL per unit */
	const struct nsc_sim_rate *basal; /* U/h, from minute 0, ascending */
	size_t n_basal;
};

void nsc_sim_therapy(uint64_t seed, struct nsc_sim_therapy *out);

#endif
