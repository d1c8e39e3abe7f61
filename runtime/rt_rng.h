/*
** rt_rng.h: seeded random numbers with independent named streams (style.md R8).
**
** Generator: xoshiro256** (Blackman & Vigna, 2018), 256 bits of state, period 2^256 - 1, seeded
** through splitmix64 so that any 64-bit seed, 0 included, gives a well-mixed state. The state is
** four uint64 words: a checkpoint saves and restores it exactly.
**
** Streams: every consumer of randomness (initialisation, data order, layer noise, estimator
** subsampling, attacks) draws from its own generator, derived from (seed, point, stream), so that
** adding noise to a layer does not change the data order, and two sweep points never share a
** sequence unless the script asks for common random numbers (then it passes the same point).
** There is no global generator and no rand().
*/
#ifndef RT_RNG_H
#define RT_RNG_H

#include "rt_base.h"

typedef struct rt_rng {
    uint64_t s[4];
} rt_rng;

typedef enum rt_stream {
    RT_STREAM_INIT = 0,     /* parameter initialisation */
    RT_STREAM_DATA,         /* shuffling, train/test splits */
    RT_STREAM_NOISE,        /* stochastic layers, dropout */
    RT_STREAM_ESTIM,        /* MI-estimator subsampling */
    RT_STREAM_ATTACK,       /* adversarial attacks */
    RT_STREAM_EVAL,         /* sampling in evaluation (restarted at every evaluation) */
    RT_STREAM_COUNT
} rt_stream;

const char *rt_stream_name(rt_stream s);    /* "init", "data", ... */

void rt_rng_seed(rt_rng *r, uint64_t seed);
/* The generator of stream `s` for (seed, point). Distinct triples give independent streams. */
void rt_rng_stream(rt_rng *r, uint64_t seed, uint64_t point, rt_stream s);

/* A generator derived from base's current state and two indices, leaving base as it is: one
** generator per (a, b), e.g. per (layer, example), whose numbers do not depend on the order in
** which the others are used. The state is seeded from a 64-bit hash of (base, a, b): two
** distinct triples share a sequence with probability 2^-64. */
void rt_rng_derive(rt_rng *out, const rt_rng *base, uint64_t a, uint64_t b);

uint64_t rt_rng_u64(rt_rng *r);
uint32_t rt_rng_below(rt_rng *r, uint32_t n);          /* uniform in [0, n), unbiased; n > 0 */
double rt_rng_uniform(rt_rng *r);                      /* uniform in [0, 1), 53 bits */
double rt_rng_normal(rt_rng *r);                       /* standard normal */
void rt_rng_fill_uniform(rt_rng *r, float *x, size_t n, float lo, float hi);
void rt_rng_fill_normal(rt_rng *r, float *x, size_t n, float mean, float std);
/* Bernoulli draws as bits, the same draws as comparing rt_rng_fill_uniform(r, u, n, 0, 1)'s floats
** with p: bit j of bits[j / 64] is 1[u_j < p_j], where thr[j] = rt_rng_threshold(p_j). Bits past n in
** the last word are 0. */
void rt_rng_fill_bits_below(rt_rng *r, const uint32_t *thr, size_t n, uint64_t *bits);
/* The integer threshold of probability p in [0, 1]: u = k 2^-24 < p exactly when k < threshold. */
uint32_t rt_rng_threshold(float p);
/* Fisher-Yates shuffle of a[0..n). */
void rt_rng_shuffle(rt_rng *r, int32_t *a, size_t n);

#endif
