// rt_rng.c: xoshiro256** seeded through splitmix64, named streams, uniform/normal/shuffle.
//
// Everything here is integer arithmetic or a fixed sequence of libm calls on the same inputs,
// so a given state produces the same numbers on every run, build and thread count.
#include "rt_rng.h"

#include <math.h>
#include <string.h>

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

/* One step: the output, and s advanced. Inlined into loops that keep a copy of the state in
** registers (rt_rng_fill_bits_below). */
static inline uint64_t xoshiro_next(uint64_t s[4]) {
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

uint64_t rt_rng_u64(rt_rng *r) { return xoshiro_next(r->s); }

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
// (0, 1] so that log never sees 0. a and b are the two draws, u1's first.
static void box_muller_u(uint64_t a, uint64_t b, double *z0, double *z1) {
    double u1 = 1.0 - (double)(a >> 11) * 0x1.0p-53;
    double u2 = (double)(b >> 11) * 0x1.0p-53;
    double radius = sqrt(-2.0 * log(u1));
    double theta = 6.283185307179586476925 * u2;
    *z0 = radius * cos(theta);
    *z1 = radius * sin(theta);
}

static void box_muller(rt_rng *r, double *z0, double *z1) {
    uint64_t a = rt_rng_u64(r);
    box_muller_u(a, rt_rng_u64(r), z0, z1);
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

// u = k 2^-24 with k the top 24 bits, and p 2^24 is exact in a float: u < p exactly when k < p 2^24,
// that is k < ceil(p 2^24). The generator's steps are rt_rng_u64's, on a copy of the state.
uint32_t rt_rng_threshold(float p) {
    return p <= 0.0f ? 0u : p >= 1.0f ? 1u << 24 : (uint32_t)ceilf(p * 0x1.0p24f);
}

void rt_rng_fill_bits_below(rt_rng *r, const uint32_t *thr, size_t n, uint64_t *bits) {
    uint64_t s[4] = { r->s[0], r->s[1], r->s[2], r->s[3] };
    for (size_t w = 0; w * 64 < n; w++) {
        size_t m = n - w * 64 < 64 ? n - w * 64 : 64;
        const uint32_t *t = thr + w * 64;
        uint64_t word = 0;
        for (size_t j = 0; j < m; j++) word |= (uint64_t)((xoshiro_next(s) >> 40) < t[j]) << j;
        bits[w] = word;
    }
    memcpy(r->s, s, sizeof s);
}

// ---- many normals at once, the same floats as box_muller ----
//
// rt_rng_fill_normal gives, float for float, what box_muller and libm give (so a stream's bytes do
// not depend on this code), at a fraction of the time: the draws come in blocks, and log, cos and
// sin are computed for a whole block by branch-free polynomials that the compiler vectorizes
// (fdlibm's e_log.c and __kernel_sin / __kernel_cos, with a three-part Cody-Waite reduction by
// pi/2; theta = 2 pi u2 lies in [0, 2 pi)). Their result is within a few units in the last place
// of libm's, far inside 2^-40 relatively; a value is used as it is only when every double within
// 2^-40 of it rounds to the same float, which then is the float libm's value rounds to as well.
// The others (about one in 30,000) are computed again with box_muller_u. Build-independent: the
// checked floats are the same whichever clone ran.

#define NB 64                   /* pairs per block */

/* x < 2^53 as a double, exactly, with integer and floating-point operations that vectorize
** without AVX-512DQ's conversions: the low 52 bits through the exponent 2^52, the top bit added. */
static inline double exact53(uint64_t x) {
    uint64_t lo = 0x4330000000000000u | (x & 0xfffffffffffffu);
    double d;
    memcpy(&d, &lo, sizeof d);
    return (d - 0x1.0p52) + ((x >> 52) & 1 ? 0x1.0p52 : 0.0);
}

/* z0, z1 as floats for NB pairs of draws; ok[j] = 0 where pair j must be computed again. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void normal_block(const uint64_t *restrict a, const uint64_t *restrict b, float *restrict f0,
                         float *restrict f1, int32_t *restrict ok) {
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
                 Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    const double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                 S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                 S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
    const double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                 C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                 C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
    const double pio2_1 = 1.57079632673412561417e+00, pio2_2 = 6.07710050630396597660e-11,
                 pio2_3 = 2.02226624871116645580e-21, invpio2 = 6.36619772367581382433e-01;
    const double up = 1.0 + 0x1.0p-40, down = 1.0 - 0x1.0p-40;
    for (int j = 0; j < NB; j++) {
        // log(u1), u1 in (0, 1]: u1 = 2^k m, m in [sqrt(2)/2, sqrt(2)), log = k ln2 + log1p(m - 1)
        double u1 = 1.0 - exact53(a[j] >> 11) * 0x1.0p-53;
        uint64_t bits;
        memcpy(&bits, &u1, sizeof bits);
        uint64_t hx = (bits >> 32) & 0x000fffffu;
        uint64_t i = (hx + 0x95f64u) & 0x100000u;
        uint64_t mb = ((hx | (i ^ 0x3ff00000u)) << 32) | (bits & 0xffffffffu);
        double m;
        memcpy(&m, &mb, sizeof m);
        double dk = exact53(bits >> 52) - 1023.0 + (i ? 1.0 : 0.0);
        double f = m - 1.0, s = f / (2.0 + f), z = s * s, w = z * z;
        double t1 = w * (Lg2 + w * (Lg4 + w * Lg6)), t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
        double R = t2 + t1, hfsq = 0.5 * f * f;
        double lg = dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
        double radius = sqrt(-2.0 * lg);
        // cos and sin of theta = 2 pi u2 in [0, 2 pi): theta = q pi/2 + r, |r| <= pi/4, q in 0..4
        double theta = 6.283185307179586476925 * (exact53(b[j] >> 11) * 0x1.0p-53);
        double q = (theta * invpio2 + 0x1.8p52) - 0x1.8p52;     /* the nearest integer */
        double r = ((theta - q * pio2_1) - q * pio2_2) - q * pio2_3;
        double rr = r * r;
        double sn = r + r * rr * (S1 + rr * (S2 + rr * (S3 + rr * (S4 + rr * (S5 + rr * S6)))));
        double cs = 1.0 - 0.5 * rr + rr * rr * (C1 + rr * (C2 + rr * (C3 + rr * (C4 + rr * (C5 + rr * C6)))));
        bool odd = (q == 1.0) | (q == 3.0);         /* | and &, not || and &&: no branches */
        double c = odd ? sn : cs, sv = odd ? cs : sn;
        c = ((q == 1.0) | (q == 2.0)) ? -c : c;
        sv = ((q == 2.0) | (q == 3.0)) ? -sv : sv;
        double z0 = radius * c, z1 = radius * sv;
        f0[j] = (float)z0;
        f1[j] = (float)z1;
        ok[j] = ((float)(z0 * up) == (float)(z0 * down)) & ((float)(z1 * up) == (float)(z1 * down));
    }
}

// Uses both values of each Box-Muller pair; an odd n drops the last sine.
void rt_rng_fill_normal(rt_rng *r, float *x, size_t n, float mean, float std) {
    uint64_t a[NB], b[NB];
    float f0[NB], f1[NB];
    int32_t ok[NB];
    size_t pairs = (n + 1) / 2;
    for (size_t p = 0; p < pairs; p += NB) {
        size_t m = pairs - p < NB ? pairs - p : NB;
        for (size_t j = 0; j < m; j++) {
            a[j] = rt_rng_u64(r);
            b[j] = rt_rng_u64(r);
        }
        for (size_t j = m; j < NB; j++) a[j] = b[j] = 0;
        normal_block(a, b, f0, f1, ok);
        for (size_t j = 0; j < m; j++) {
            if (!ok[j]) {
                double z0, z1;
                box_muller_u(a[j], b[j], &z0, &z1);
                f0[j] = (float)z0;
                f1[j] = (float)z1;
            }
            size_t i = 2 * (p + j);
            x[i] = mean + std * f0[j];
            if (i + 1 < n) x[i + 1] = mean + std * f1[j];
        }
    }
}
