// rt_rng.c: xoshiro256** seeded through splitmix64, named streams, uniform/normal/shuffle.
//
// Everything here is integer arithmetic or a fixed sequence of libm calls on the same inputs,
// so a given state produces the same numbers on every run, build and thread count.
#include "rt_rng.h"

#include <math.h>

// ---- splitmix64 (Steele, Lea & Flood; Vigna's reference constants) ----

// The output function of splitmix64: a bijection of 64-bit words.
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t splitmix64_next(uint64_t *x) {
    *x += 0x9e3779b97f4a7c15u;
    return mix64(*x);
}

// ---- xoshiro256** ----

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t rt_rng_u64(rt_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

// ---- seeding and streams ----

const char *rt_stream_name(rt_stream s) {
    switch (s) {
    case RT_STREAM_INIT: return "init";
    case RT_STREAM_DATA: return "data";
    case RT_STREAM_NOISE: return "noise";
    case RT_STREAM_ESTIM: return "estim";
    case RT_STREAM_ATTACK: return "attack";
    case RT_STREAM_EVAL: return "eval";
    case RT_STREAM_COUNT: break;
    }
    return "unknown";
}

void rt_rng_seed(rt_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64_next(&x);
    // Four outputs of splitmix64 are never all zero (mix64 is a bijection and the counter
    // values are distinct), so the state is valid for xoshiro.
}

// The state is built by invertible steps only, so distinct (seed, point, stream) triples give
// distinct states:
//   a = mix(seed + C)            determines seed
//   b = mix(a ^ mix(point + C))  determines point, given a
//   c = mix(b ^ mix(stream + C)) determines stream, given b
//   d = mix(c + C)
// followed by a Feistel-like pass (x ^= f(other word), invertible) so that every word depends
// on all three inputs. Different constants keep the three input channels apart.
void rt_rng_stream(rt_rng *r, uint64_t seed, uint64_t point, rt_stream s) {
    uint64_t a = mix64(seed + 0x9e3779b97f4a7c15u);
    uint64_t b = mix64(a ^ mix64(point + 0x3c6ef372fe94f82au));
    uint64_t c = mix64(b ^ mix64((uint64_t)s + 0xdaa66d2c7ddf743fu));
    uint64_t d = mix64(c + 0x78dde6e5fd29f054u);
    a ^= mix64(d);
    b ^= mix64(a);
    r->s[0] = a;
    r->s[1] = b;
    r->s[2] = c;
    r->s[3] = d;
    if ((a | b | c | d) == 0) r->s[0] = 1;    // the one invalid xoshiro state; unreachable in practice
}

// Chained through mix64 (each step a bijection of the running hash, given its input), then
// expanded by splitmix64 as rt_rng_seed does.
void rt_rng_derive(rt_rng *out, const rt_rng *base, uint64_t a, uint64_t b) {
    uint64_t h = mix64(base->s[0] + 0x9e3779b97f4a7c15u);
    h = mix64(h ^ mix64(base->s[1] + 0x3c6ef372fe94f82au));
    h = mix64(h ^ mix64(base->s[2] + 0xdaa66d2c7ddf743fu));
    h = mix64(h ^ mix64(base->s[3] + 0x78dde6e5fd29f054u));
    h = mix64(h ^ mix64(a + 0x1715609d7ba1a9c5u));
    h = mix64(h ^ mix64(b + 0xb54cda56a1e3c1d3u));
    rt_rng_seed(out, h);
}

// ---- integers ----

// Lemire's multiply-and-reject ("Fast random integer generation in an interval", 2019) on the
// high 32 bits of each draw: exact, and rejects with probability < n / 2^32.
uint32_t rt_rng_below(rt_rng *r, uint32_t n) {
    RT_ASSERT(n > 0);
    uint64_t m = (rt_rng_u64(r) >> 32) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (0u - n) % n;     // 2^32 mod n
        while (low < threshold) {
            m = (rt_rng_u64(r) >> 32) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void rt_rng_shuffle(rt_rng *r, int32_t *a, size_t n) {
    RT_ASSERT(n <= (size_t)UINT32_MAX);
    for (size_t i = n; i > 1; i--) {
        size_t j = rt_rng_below(r, (uint32_t)i);   // j in [0, i)
        int32_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}

// ---- real numbers ----

double rt_rng_uniform(rt_rng *r) {
    return (double)(rt_rng_u64(r) >> 11) * 0x1.0p-53;
}

// Box-Muller: two uniforms give two independent normals, radius * (cos, sin). u1 is taken in
// (0, 1] so that log never sees 0.
static void box_muller(rt_rng *r, double *z0, double *z1) {
    double u1 = 1.0 - rt_rng_uniform(r);
    double u2 = rt_rng_uniform(r);
    double radius = sqrt(-2.0 * log(u1));
    double theta = 6.283185307179586476925 * u2;
    *z0 = radius * cos(theta);
    *z1 = radius * sin(theta);
}

// One normal per call (the sine half is dropped, so the state stays the four words).
double rt_rng_normal(rt_rng *r) {
    double z0, z1;
    box_muller(r, &z0, &z1);
    return z0;
}

// 24 random bits per float, so that u is exactly representable and u < 1.
void rt_rng_fill_uniform(rt_rng *r, float *x, size_t n, float lo, float hi) {
    float width = hi - lo;
    for (size_t i = 0; i < n; i++) {
        float u = (float)(rt_rng_u64(r) >> 40) * 0x1.0p-24f;
        x[i] = lo + width * u;
    }
}

// Uses both values of each Box-Muller pair; an odd n drops the last sine.
void rt_rng_fill_normal(rt_rng *r, float *x, size_t n, float mean, float std) {
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        double z0, z1;
        box_muller(r, &z0, &z1);
        x[i] = mean + std * (float)z0;
        x[i + 1] = mean + std * (float)z1;
    }
    if (i < n) {
        double z0, z1;
        box_muller(r, &z0, &z1);
        x[i] = mean + std * (float)z0;
    }
}
