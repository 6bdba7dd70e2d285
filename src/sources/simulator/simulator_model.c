/* SPDX-License-Identifier: MIT */
/*
 * The simulator's model (see simulator_model.h). Every random choice is
 * drawn from the seed and a day, meal or 5-minute slot through splitmix64,
 * so the same time always gives the same values:
 *
 * - glucose: a base, a slow daily rhythm, three meals a day whose carbs
 *   raise it and whose boluses bring it down again (gamma-shaped
 *   responses), occasional under-dosed dinners with a correction later,
 *   and small noise;
 * - insulin on board: each bolus counts in full when given and falls
 *   linearly to nothing over NSC_SIM_DIA_HOURS;
 * - the pump: a reservoir filled every 3 days at 00:00 UTC and emptied by
 *   the basal schedule and the boluses; a battery changed every 10 days;
 * - the phone (the uploader): off the charger at 06:00 UTC, draining until
 *   22:00, then charging back to full.
 */
#include "config.h"

#include <math.h>

#include "sources/simulator/simulator.h"
#include "sources/simulator/simulator_model.h"
#include "timeutil.h"

/* The glucose model's constants (mg/dL, grams, units, minutes). */
#define SIM_BASE_MIN 110
#define SIM_BASE_SPREAD 21          /* base in 110..130 */
#define SIM_RHYTHM_AMPLITUDE 12.0   /* slow daily swing, peak near dawn */
#define SIM_RHYTHM_PEAK_MIN 300     /* 05:00 UTC ... */
#define SIM_RHYTHM_PEAK_SPREAD 120  /* ... to 07:00 UTC */
#define SIM_CARB_EFFECT 1.6         /* peak rise per gram */
#define SIM_CARB_TAU 55.0           /* minutes to the carb peak */
#define SIM_INSULIN_TAU 120.0       /* minutes to the insulin peak */
#define SIM_ICR_MIN 10              /* grams per unit, 10..14 by seed */
#define SIM_ICR_SPREAD 5
#define SIM_MEAL_SHIFT_MIN 30       /* meals move up to ±30 min */
#define SIM_NOISE_SPREAD 5          /* noise in -2..+2 */
#define SIM_MEALS_PER_DAY 3
#define SIM_PI 3.14159265358979323846
/* Instants beyond ±2^60 ms (±36 million years) are clamped: no overflow anywhere. */
#define SIM_MAX_ABS_SLOT ((INT64_C(1) << 60) / NSC_SIMULATOR_SLOT_MS)

/* The pump's and the phone's constants. */
#define SIM_DIA_MS (NSC_SIM_DIA_HOURS * NSC_MS_PER_HOUR)
#define SIM_BOLUS_MS_PER_UNIT 40000.0      /* delivery at 1.5 U/min */
#define SIM_RESERVOIR_DAYS 3
#define SIM_PUMP_BATTERY_DAYS 10
#define SIM_PUMP_BATTERY_MIN_PER_PERCENT 240
#define SIM_PHONE_UNPLUGGED_MIN (6 * 60)  /* 06:00 UTC, full */
#define SIM_PHONE_PLUGGED_MIN (22 * 60)   /* 22:00 UTC, at 40 % */
#define SIM_PHONE_DRAIN_MIN_PER_PERCENT 16
#define SIM_PHONE_CHARGE_MIN_PER_PERCENT 2
#define SIM_PHONE_PLUGGED_PERCENT 40
/* The 500 and 1800 rules: carb ratio = 500 / TDD, sensitivity = 1800 / TDD. */
#define SIM_ISF_PER_ICR (1800.0 / 500.0)

struct sim_meal_plan {
	int minute;   /* nominal UTC minute of the day */
	int carbs_lo; /* grams, multiples of 5 */
	int carbs_hi;
};

static const struct sim_meal_plan sim_meals[SIM_MEALS_PER_DAY] = {
	{ 7 * 60 + 30, 30, 60 },  /* breakfast */
	{ 12 * 60 + 30, 40, 75 }, /* lunch */
	{ 18 * 60 + 30, 45, 80 }, /* dinner */
};

/* U/h: a little more before and around dawn, where the glucose rhythm peaks. */
static const struct nsc_sim_rate sim_basal[] = {
	{ 0, 0.75 },
	{ 3 * 60, 0.95 },
	{ 8 * 60, 0.8 },
};
#define SIM_BASAL_N (sizeof(sim_basal) / sizeof(sim_basal[0]))

uint64_t nsc_sim_mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static uint64_t sim_hash(uint64_t seed, enum nsc_sim_tag tag, int64_t n)
{
	return nsc_sim_mix(nsc_sim_mix(seed ^ (uint64_t)tag) ^ (uint64_t)n);
}

int64_t nsc_sim_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t sim_clamp_time(int64_t ts)
{
	const int64_t max_ts = SIM_MAX_ABS_SLOT * NSC_SIMULATOR_SLOT_MS;
	if (ts > max_ts)
		return max_ts;
	if (ts < -max_ts)
		return -max_ts;
	return ts;
}

static int sim_icr(uint64_t seed)
{
	return SIM_ICR_MIN + (int)(sim_hash(seed, NSC_SIM_TAG_ICR, 0) % SIM_ICR_SPREAD);
}

/* Peak drop (mg/dL) per unit, chosen so a well-dosed meal nets out to zero. */
static double sim_insulin_effect(uint64_t seed)
{
	return sim_icr(seed) * SIM_CARB_EFFECT * SIM_CARB_TAU / SIM_INSULIN_TAU;
}

static double round_half_units(double u)
{
	double r = round(u * 2.0) / 2.0;
	return r < 0.5 ? 0.5 : r;
}

/* On a correction day the dinner is under-dosed and a correction follows. */
size_t nsc_sim_day_events(uint64_t seed, int64_t day,
			  struct nsc_sim_event ev[NSC_SIM_MAX_EVENTS_PER_DAY])
{
	int icr = sim_icr(seed);
	bool correction = sim_hash(seed, NSC_SIM_TAG_CORRECTION_DAY, day) % 3 == 0;
	size_t n = 0;

	for (int i = 0; i < SIM_MEALS_PER_DAY; i++) {
		const struct sim_meal_plan *p = &sim_meals[i];
		int64_t k = day * 4 + i;
		int shift = (int)(sim_hash(seed, NSC_SIM_TAG_MEAL_SHIFT, k) % (2 * SIM_MEAL_SHIFT_MIN + 1)) -
			    SIM_MEAL_SHIFT_MIN;
		int steps = (p->carbs_hi - p->carbs_lo) / 5 + 1;
		int carbs = p->carbs_lo + 5 * (int)(sim_hash(seed, NSC_SIM_TAG_CARBS, k) % (uint64_t)steps);

		ev[n].kind = NSC_SIM_MEAL;
		ev[n].t_ms = day * NSC_MS_PER_DAY + (int64_t)(p->minute + shift) * NSC_MS_PER_MINUTE;
		ev[n].carbs = carbs;
		ev[n].insulin = round_half_units((double)carbs / icr);
		n++;
	}
	if (correction) {
		struct nsc_sim_event *dinner = &ev[n - 1];
		double units = 1.0 + 0.5 * (double)(sim_hash(seed, NSC_SIM_TAG_CORRECTION_UNITS, day) % 4);
		int delay = 150 + (int)(sim_hash(seed, NSC_SIM_TAG_CORRECTION_DELAY, day) % 31);

		dinner->insulin = round_half_units(dinner->insulin - units);
		ev[n].kind = NSC_SIM_CORRECTION;
		ev[n].t_ms = dinner->t_ms + (int64_t)delay * NSC_MS_PER_MINUTE;
		ev[n].carbs = 0;
		ev[n].insulin = units;
		n++;
	}
	return n;
}

/* Gamma-shaped response (shape 2): 0 at x = 0, peak 1 at x = tau, then decays. */
static double sim_response(double x_min, double tau)
{
	if (x_min <= 0.0)
		return 0.0;
	double u = x_min / tau;
	return u * u * exp(2.0 * (1.0 - u));
}

/* Noise of 5-minute slot `slot`, in -2..+2 mg/dL. */
static double sim_noise(uint64_t seed, int64_t slot)
{
	return (double)(int)(sim_hash(seed, NSC_SIM_TAG_NOISE, slot) % SIM_NOISE_SPREAD) - (SIM_NOISE_SPREAD / 2);
}

/*
 * The noise is drawn per 5-minute slot and blended linearly in between, so
 * a faster cadence (CONNECT_SIMULATOR_INTERVAL) sees a smooth curve, and
 * the 5-minute grid sees exactly the drawn values.
 */
int nsc_sim_glucose(uint64_t seed, int64_t ts)
{
	ts = sim_clamp_time(ts);
	int64_t day = nsc_sim_floor_div(ts, NSC_MS_PER_DAY);
	double minute_of_day = (double)(ts - day * NSC_MS_PER_DAY) / (double)NSC_MS_PER_MINUTE;
	double peak = SIM_RHYTHM_PEAK_MIN + (double)(sim_hash(seed, NSC_SIM_TAG_RHYTHM, 0) % SIM_RHYTHM_PEAK_SPREAD);
	double isf = sim_insulin_effect(seed);
	double v = SIM_BASE_MIN + (double)(sim_hash(seed, NSC_SIM_TAG_BASE, 0) % SIM_BASE_SPREAD);

	v += SIM_RHYTHM_AMPLITUDE * cos(2.0 * SIM_PI * (minute_of_day - peak) / 1440.0);

	/* Effects last a few hours: yesterday's evening still counts. */
	for (int64_t d = day - 1; d <= day; d++) {
		struct nsc_sim_event ev[NSC_SIM_MAX_EVENTS_PER_DAY];
		size_t n = nsc_sim_day_events(seed, d, ev);
		for (size_t i = 0; i < n; i++) {
			double x = (double)(ts - ev[i].t_ms) / (double)NSC_MS_PER_MINUTE;
			if (x <= 0.0)
				continue;
			v += ev[i].carbs * SIM_CARB_EFFECT * sim_response(x, SIM_CARB_TAU);
			v -= ev[i].insulin * isf * sim_response(x, SIM_INSULIN_TAU);
		}
	}

	int64_t slot = nsc_sim_floor_div(ts, NSC_SIMULATOR_SLOT_MS);
	double frac = (double)(ts - slot * NSC_SIMULATOR_SLOT_MS) / (double)NSC_SIMULATOR_SLOT_MS;
	v += sim_noise(seed, slot) * (1.0 - frac) + (frac > 0.0 ? sim_noise(seed, slot + 1) * frac : 0.0);

	long r = lround(v);
	if (r < NSC_SIMULATOR_MIN_MGDL)
		r = NSC_SIMULATOR_MIN_MGDL;
	if (r > NSC_SIMULATOR_MAX_MGDL)
		r = NSC_SIMULATOR_MAX_MGDL;
	return (int)r;
}

int nsc_simulator_glucose_at(uint64_t seed, int64_t t_ms)
{
	int64_t slot = nsc_sim_floor_div(t_ms, NSC_SIMULATOR_SLOT_MS);
	/* Clamp before multiplying: the slot of INT64_MIN times 5 minutes overflows. */
	if (slot > SIM_MAX_ABS_SLOT)
		slot = SIM_MAX_ABS_SLOT;
	if (slot < -SIM_MAX_ABS_SLOT)
		slot = -SIM_MAX_ABS_SLOT;
	return nsc_sim_glucose(seed, slot * NSC_SIMULATOR_SLOT_MS);
}

int64_t nsc_sim_delta_span_ms(int64_t slot_ms)
{
	return slot_ms > NSC_SIMULATOR_SLOT_MS ? slot_ms : NSC_SIMULATOR_SLOT_MS;
}

/* Basal units the schedule delivers from 00:00 UTC to `ms` into the day. */
static double sim_basal_since_midnight(int64_t ms)
{
	double units = 0.0;

	for (size_t i = 0; i < SIM_BASAL_N; i++) {
		int64_t from = sim_basal[i].minute * NSC_MS_PER_MINUTE;
		int64_t to = i + 1 < SIM_BASAL_N ? sim_basal[i + 1].minute * NSC_MS_PER_MINUTE
						 : NSC_MS_PER_DAY;
		if (ms <= from)
			break;
		if (ms < to)
			to = ms;
		units += sim_basal[i].value * (double)(to - from) / (double)NSC_MS_PER_HOUR;
	}
	return units;
}

/* Phone battery at `minute` of the UTC day. */
static int sim_phone_percent(int minute)
{
	if (minute >= SIM_PHONE_UNPLUGGED_MIN && minute < SIM_PHONE_PLUGGED_MIN)
		return 100 - (minute - SIM_PHONE_UNPLUGGED_MIN) / SIM_PHONE_DRAIN_MIN_PER_PERCENT;
	int charging = (minute - SIM_PHONE_PLUGGED_MIN + 1440) % 1440;
	int p = SIM_PHONE_PLUGGED_PERCENT + charging / SIM_PHONE_CHARGE_MIN_PER_PERCENT;
	return p > 100 ? 100 : p;
}

void nsc_sim_pump_at(uint64_t seed, int64_t t_ms, struct nsc_sim_pump *out)
{
	int64_t t = sim_clamp_time(t_ms);
	int64_t day = nsc_sim_floor_div(t, NSC_MS_PER_DAY);
	int64_t into_day = t - day * NSC_MS_PER_DAY;
	int64_t filled_day = nsc_sim_floor_div(day, SIM_RESERVOIR_DAYS) * SIM_RESERVOIR_DAYS;
	int64_t battery_day = nsc_sim_floor_div(day, SIM_PUMP_BATTERY_DAYS) * SIM_PUMP_BATTERY_DAYS;
	int64_t first = nsc_sim_floor_div(t - SIM_DIA_MS, NSC_MS_PER_DAY);
	double iob = 0.0, used = 0.0;
	bool bolusing = false;

	if (filled_day < first)
		first = filled_day;
	for (int64_t d = first; d <= day; d++) {
		struct nsc_sim_event ev[NSC_SIM_MAX_EVENTS_PER_DAY];
		size_t n = nsc_sim_day_events(seed, d, ev);
		for (size_t i = 0; i < n; i++) {
			int64_t x = t - ev[i].t_ms;
			if (x < 0)
				continue;
			if (d >= filled_day)
				used += ev[i].insulin;
			if (x < SIM_DIA_MS)
				iob += ev[i].insulin * (1.0 - (double)x / (double)SIM_DIA_MS);
			if ((double)x < ev[i].insulin * SIM_BOLUS_MS_PER_UNIT)
				bolusing = true;
		}
	}
	used += (double)(day - filled_day) * sim_basal_since_midnight(NSC_MS_PER_DAY) +
		sim_basal_since_midnight(into_day);

	out->iob = round(iob * 100.0) / 100.0;
	out->reservoir = round((NSC_SIM_RESERVOIR_FILL - used) * 10.0) / 10.0;
	out->battery_percent = 100 - (int)((t - battery_day * NSC_MS_PER_DAY) / NSC_MS_PER_MINUTE /
					   SIM_PUMP_BATTERY_MIN_PER_PERCENT);
	out->uploader_percent = sim_phone_percent((int)(into_day / NSC_MS_PER_MINUTE));
	out->bolusing = bolusing;
}

void nsc_sim_therapy(uint64_t seed, struct nsc_sim_therapy *out)
{
	out->carb_ratio = sim_icr(seed);
	out->sensitivity = (int)lround(out->carb_ratio * SIM_ISF_PER_ICR);
	out->basal = sim_basal;
	out->n_basal = SIM_BASAL_N;
}
