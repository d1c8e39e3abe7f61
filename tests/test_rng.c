// test_rng.c: xoshiro256** against the published vector and an independent transcription,
// seeding, streams, and the statistics of every distribution.
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_rng.h"

// ---- an independent reference (Blackman & Vigna; Vigna's splitmix64) ----

// Written from the papers' pseudo-code with explicit masks and arrays, not from rt_rng.c.
static uint64_t ref_rotl(uint64_t x, unsigned k) {
    return (x << k) | (x >> ((64u - k) & 63u));
}

static uint64_t ref_xoshiro(uint64_t st[4]) {
    uint64_t out = ref_rotl(st[1] * 5u, 7u) * 9u;
    uint64_t sh = st[1] << 17;
    uint64_t n0 = st[0] ^ st[3] ^ st[1];            // s0 ^= s3, where s3 ^= s1 first
    uint64_t n1 = st[1] ^ st[2] ^ st[0];            // s1 ^= s2, where s2 ^= s0 first
    uint64_t n2 = st[2] ^ st[0] ^ sh;
    uint64_t n3 = ref_rotl(st[3] ^ st[1], 45u);
    st[0] = n0; st[1] = n1; st[2] = n2; st[3] = n3;
    return out;
}

static uint64_t ref_splitmix(uint64_t *x) {
    uint64_t z = *x = *x + UINT64_C(0x9E3779B97F4A7C15);
    z ^= z >> 30; z *= UINT64_C(0xBF58476D1CE4E5B9);
    z ^= z >> 27; z *= UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

// ---- the generator ----

Test(rng, xoshiro_published_vector) {
    // The reference outputs of xoshiro256** from the state {1, 2, 3, 4} (xoshiro.di.unimi.it).
    static const uint64_t want[10] = {
        11520u, 0u, 1509978240u, UINT64_C(1215971899390074240),
        UINT64_C(1216172134540287360), UINT64_C(607988272756665600),
        UINT64_C(16172922978634559625), UINT64_C(8476171486693032832),
        UINT64_C(10595114339597558777), UINT64_C(2904607092377533576)};
    rt_rng r = {{1, 2, 3, 4}};
    for (int i = 0; i < 10; i++) {
        uint64_t got = rt_rng_u64(&r);
        cr_assert_eq(got, want[i], "output %d: %llu, want %llu", i, (unsigned long long)got,
                     (unsigned long long)want[i]);
    }
}

Test(rng, seed_is_splitmix64) {
    // splitmix64 from 1234567: published first outputs (Vigna's splitmix64.c).
    rt_rng r;
    rt_rng_seed(&r, 1234567u);
    cr_assert_eq(r.s[0], UINT64_C(6457827717110365317));
    cr_assert_eq(r.s[1], UINT64_C(3203168211198807973));
    cr_assert_eq(r.s[2], UINT64_C(9817491932198370423));
    cr_assert_eq(r.s[3], UINT64_C(4593380528125082431));
    // Seed 0 is fine: a well-mixed, non-zero state.
    rt_rng_seed(&r, 0);
    cr_assert_eq(r.s[0], UINT64_C(0xE220A8397B1DCDAF));
}

Test(rng, matches_independent_reference) {
    for (uint64_t seed = 0; seed < 20; seed++) {
        rt_rng r;
        rt_rng_seed(&r, seed * 7919u);
        uint64_t x = seed * 7919u, st[4];
        for (int i = 0; i < 4; i++) st[i] = ref_splitmix(&x);
        for (int i = 0; i < 1000; i++) cr_assert_eq(rt_rng_u64(&r), ref_xoshiro(st));
        cr_assert_eq(memcmp(r.s, st, sizeof st), 0);
    }
}

Test(rng, same_seed_same_sequence) {
    rt_rng a, b, c;
    rt_rng_seed(&a, 42);
    rt_rng_seed(&b, 42);
    rt_rng_seed(&c, 43);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rt_rng_u64(&a);
        cr_assert_eq(x, rt_rng_u64(&b));
        same_c += x == rt_rng_u64(&c);
    }
    cr_assert_eq(same_c, 0);
}

Test(rng, state_copy_resumes_exactly) {
    // What a checkpoint does: the four words are the whole state, normals included.
    rt_rng a;
    rt_rng_stream(&a, 5, 9, RT_STREAM_NOISE);
    for (int i = 0; i < 37; i++) (void)rt_rng_normal(&a);
    rt_rng b = a;
    for (int i = 0; i < 100; i++) {
        double x = rt_rng_normal(&a), y = rt_rng_normal(&b);
        cr_assert_eq(memcmp(&x, &y, sizeof x), 0);
    }
}

// ---- streams ----

// Sample correlation of the uniforms drawn from two generators.
static double correlation(rt_rng *a, rt_rng *b, int n) {
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int i = 0; i < n; i++) {
        double x = rt_rng_uniform(a), y = rt_rng_uniform(b);
        sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y;
    }
    double cov = sab / n - (sa / n) * (sb / n);
    double va = saa / n - (sa / n) * (sa / n), vb = sbb / n - (sb / n) * (sb / n);
    return cov / sqrt(va * vb);
}

Test(rng, streams_are_distinct) {
    // Every (seed, point, stream) over a small grid, including swapped seed/point, is distinct.
    enum { NS = 4, NP = 4, N = NS * NP * RT_STREAM_COUNT };
    uint64_t first[N];
    rt_rng states[N];
    int k = 0;
    for (uint64_t seed = 0; seed < NS; seed++)
        for (uint64_t point = 0; point < NP; point++)
            for (int s = 0; s < RT_STREAM_COUNT; s++) {
                rt_rng_stream(&states[k], seed, point, (rt_stream)s);
                rt_rng r = states[k];
                first[k++] = rt_rng_u64(&r);
            }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            cr_assert_neq(memcmp(&states[i], &states[j], sizeof states[i]), 0, "%d == %d", i, j);
            cr_assert_neq(first[i], first[j], "first outputs of %d and %d collide", i, j);
        }
    // Reproducible.
    rt_rng a, b;
    rt_rng_stream(&a, 3, 2, RT_STREAM_DATA);
    rt_rng_stream(&b, 3, 2, RT_STREAM_DATA);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
}

Test(rng, streams_are_uncorrelated) {
    // 20000 pairs: the correlation of independent streams has sd 0.007; 0.04 is ~5.6 sd.
    rt_rng base, other;
    rt_rng_stream(&base, 1, 0, RT_STREAM_INIT);
    for (int s = 1; s < RT_STREAM_COUNT; s++) {
        rt_rng a = base;
        rt_rng_stream(&other, 1, 0, (rt_stream)s);
        double c = correlation(&a, &other, 20000);
        cr_assert(fabs(c) < 0.04, "stream %d vs init: correlation %g", s, c);
    }
    for (uint64_t p = 1; p < 4; p++) {
        rt_rng a = base;
        rt_rng_stream(&other, 1, p, RT_STREAM_INIT);
        double c = correlation(&a, &other, 20000);
        cr_assert(fabs(c) < 0.04, "point %d vs point 0: correlation %g", (int)p, c);
    }
    // The check itself can fail: a stream against itself correlates perfectly.
    rt_rng a = base, b = base;
    cr_assert(correlation(&a, &b, 1000) > 0.999);
}

Test(rng, derived_generators_are_distinct_reproducible_and_leave_the_base_alone) {
    enum { NA = 8, NB = 64, N = NA * NB };
    rt_rng base, before, other;
    rt_rng_stream(&base, 5, 1, RT_STREAM_EVAL);
    before = base;
    uint64_t *first = malloc(N * sizeof *first);
    for (uint64_t a = 0; a < NA; a++)
        for (uint64_t b = 0; b < NB; b++) {
            rt_rng r;
            rt_rng_derive(&r, &base, a, b);
            first[a * NB + b] = rt_rng_u64(&r);
        }
    cr_assert_eq(memcmp(&base, &before, sizeof base), 0, "rt_rng_derive changed its base");
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) cr_assert_neq(first[i], first[j], "(a, b) %d and %d collide", i, j);
    rt_rng r;
    rt_rng_derive(&r, &base, 3, 17);
    cr_assert_eq(rt_rng_u64(&r), first[3 * NB + 17], "not reproducible");
    /* (a, b) and (b, a) differ; so do the same indices on another base. */
    rt_rng_derive(&r, &base, 17, 3);
    cr_assert_neq(rt_rng_u64(&r), first[3 * NB + 17]);
    rt_rng_stream(&other, 5, 2, RT_STREAM_EVAL);
    rt_rng_derive(&r, &other, 3, 17);
    cr_assert_neq(rt_rng_u64(&r), first[3 * NB + 17]);
    free(first);
    /* Uncorrelated with the base's own sequence and with a neighbour. */
    rt_rng a = base, d1, d2;
    rt_rng_derive(&d1, &base, 0, 0);
    rt_rng_derive(&d2, &base, 0, 1);
    double c1 = correlation(&a, &d1, 20000);
    rt_rng_derive(&d1, &base, 0, 0);
    double c2 = correlation(&d1, &d2, 20000);
    cr_assert(fabs(c1) < 0.04 && fabs(c2) < 0.04, "correlations %g %g", c1, c2);
}

Test(rng, stream_names) {
    cr_assert_str_eq(rt_stream_name(RT_STREAM_INIT), "init");
    cr_assert_str_eq(rt_stream_name(RT_STREAM_DATA), "data");
    cr_assert_str_eq(rt_stream_name(RT_STREAM_NOISE), "noise");
    cr_assert_str_eq(rt_stream_name(RT_STREAM_ESTIM), "estim");
    cr_assert_str_eq(rt_stream_name(RT_STREAM_ATTACK), "attack");
}

// ---- distributions ----

Test(rng, uniform_moments) {
    rt_rng r;
    rt_rng_seed(&r, 7);
    enum { N = 100000 };
    double s = 0, ss = 0;
    for (int i = 0; i < N; i++) {
        double u = rt_rng_uniform(&r);
        cr_assert(u >= 0.0 && u < 1.0);
        s += u;
        ss += u * u;
    }
    double mean = s / N, var = ss / N - mean * mean;
    cr_assert(fabs(mean - 0.5) < 0.005, "mean %g", mean);          // sd 0.0009
    cr_assert(fabs(var - 1.0 / 12) < 0.002, "variance %g", var);    // sd 0.0002
}

Test(rng, uniform_has_53_bits) {
    // The top 53 bits of a draw, scaled by 2^-53: exact, so u * 2^53 is an integer.
    rt_rng r, q;
    rt_rng_seed(&r, 11);
    q = r;
    for (int i = 0; i < 100; i++) {
        double u = rt_rng_uniform(&r);
        cr_assert_eq((uint64_t)(u * 9007199254740992.0), rt_rng_u64(&q) >> 11);
    }
}

Test(rng, fill_uniform_range) {
    rt_rng r;
    rt_rng_seed(&r, 3);
    enum { N = 100000 };
    static float x[N];
    rt_rng_fill_uniform(&r, x, N, -2.0f, 6.0f);
    double s = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(x[i] >= -2.0f && x[i] < 6.0f, "x[%d] = %g", i, (double)x[i]);
        s += (double)x[i];
    }
    cr_assert(fabs(s / N - 2.0) < 0.04, "mean %g", s / N);           // sd 0.0073
}

// Mean, variance, skewness and kurtosis of x[0..n).
static void moments(const double *x, int n, double m[4]) {
    double mean = 0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    double m2 = 0, m3 = 0, m4 = 0;
    for (int i = 0; i < n; i++) {
        double d = x[i] - mean;
        m2 += d * d; m3 += d * d * d; m4 += d * d * d * d;
    }
    m2 /= n; m3 /= n; m4 /= n;
    m[0] = mean; m[1] = m2; m[2] = m3 / pow(m2, 1.5); m[3] = m4 / (m2 * m2);
}

// Tolerances are about 6 standard errors for 1e5 samples: mean 0.0032, variance 0.0045,
// skewness 0.0077, kurtosis 0.0155.
static void check_standard_normal(const double m[4], const char *what) {
    cr_assert(fabs(m[0]) < 0.02, "%s: mean %g", what, m[0]);
    cr_assert(fabs(m[1] - 1) < 0.03, "%s: variance %g", what, m[1]);
    cr_assert(fabs(m[2]) < 0.05, "%s: skewness %g", what, m[2]);
    cr_assert(fabs(m[3] - 3) < 0.1, "%s: kurtosis %g", what, m[3]);
}

Test(rng, normal_moments) {
    enum { N = 100000 };
    static double x[N];
    static float f[N];
    double m[4];
    rt_rng r;
    rt_rng_seed(&r, 2024);
    for (int i = 0; i < N; i++) x[i] = rt_rng_normal(&r);
    moments(x, N, m);
    check_standard_normal(m, "rt_rng_normal");

    rt_rng_fill_normal(&r, f, N, 3.0f, 0.5f);
    for (int i = 0; i < N; i++) x[i] = ((double)f[i] - 3.0) / 0.5;
    moments(x, N, m);
    check_standard_normal(m, "rt_rng_fill_normal");

    // Both halves of each pair are used and are uncorrelated with each other.
    double c = 0;
    for (int i = 0; i + 1 < N; i += 2) c += x[i] * x[i + 1];
    c /= N / 2;
    cr_assert(fabs(c) < 0.03, "pair correlation %g", c);          // sd 0.0045
}

Test(rng, fill_normal_is_reproducible_and_odd_sizes) {
    float a[7], b[7];
    rt_rng r1, r2;
    rt_rng_seed(&r1, 5);
    rt_rng_seed(&r2, 5);
    rt_rng_fill_normal(&r1, a, 7, 0.0f, 1.0f);
    rt_rng_fill_normal(&r2, b, 7, 0.0f, 1.0f);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    cr_assert_eq(memcmp(&r1, &r2, sizeof r1), 0);
    for (int i = 0; i < 7; i++) cr_assert(isfinite(a[i]));
}

// rt_rng_fill_normal computes log, cos and sin by vectorized polynomials and checks each float
// against a band; it must give exactly what Box-Muller with libm gives, written out here from the
// formula: u1 = 1 - U, u2 = U (53-bit uniforms, u1's first), sqrt(-2 log u1) (cos, sin)(2 pi u2).
// About 650,000 values over 2,000 seeds, sizes odd and even, shorter and longer than one block, and
// the generator's state after them.
Test(rng, fill_normal_is_box_muller_with_libm_to_the_bit) {
    enum { N = 1001 };
    static float a[N], b[N];
    long differ = 0, total = 0;
    for (uint64_t seed = 0; seed < 2000; seed++) {
        rt_rng r1, r2;
        rt_rng_seed(&r1, seed);
        r2 = r1;
        size_t n = seed % 4 == 0 ? N : (size_t)(seed % 200) + 1;
        float mean = seed % 2 ? 0.0f : 0.25f, std = seed % 3 ? 1.0f : 1.5f;
        rt_rng_fill_normal(&r1, a, n, mean, std);
        for (size_t i = 0; i < n; i += 2) {
            double u1 = 1.0 - (double)(rt_rng_u64(&r2) >> 11) * 0x1.0p-53;
            double u2 = (double)(rt_rng_u64(&r2) >> 11) * 0x1.0p-53;
            double radius = sqrt(-2.0 * log(u1)), theta = 6.283185307179586476925 * u2;
            b[i] = mean + std * (float)(radius * cos(theta));
            if (i + 1 < n) b[i + 1] = mean + std * (float)(radius * sin(theta));
        }
        for (size_t i = 0; i < n; i++) differ += memcmp(&a[i], &b[i], sizeof a[i]) != 0;
        total += (long)n;
        cr_assert_eq(memcmp(&r1, &r2, sizeof r1), 0, "seed %llu: state after %zu normals", (unsigned long long)seed, n);
    }
    cr_assert_eq(differ, 0, "%ld of %ld normals differ from Box-Muller with libm", differ, total);
}

// ---- integers and shuffles ----

Test(rng, below_unbiased_chi_square) {
    rt_rng r;
    rt_rng_seed(&r, 99);
    static const uint32_t sizes[] = {1, 2, 3, 5, 7, 10, 17};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t n = sizes[k];
        long count[17] = {0};
        enum { N = 100000 };
        for (int i = 0; i < N; i++) {
            uint32_t x = rt_rng_below(&r, n);
            cr_assert(x < n);
            count[x]++;
        }
        double e = (double)N / n, chi2 = 0;
        for (uint32_t j = 0; j < n; j++) chi2 += (count[j] - e) * (count[j] - e) / e;
        // dof = n - 1; mean dof, sd sqrt(2 dof): allow 6 sd.
        double dof = n - 1;
        cr_assert(chi2 <= dof + 6 * sqrt(2 * dof) + 1e-9, "n=%u: chi2 %g with %g dof", n, chi2, dof);
    }
}

Test(rng, below_unbiased_for_large_n) {
    // n = 3 * 2^30: 32-bit modulo would put half the draws below 2^30, and multiply-shift
    // without rejection would put half on multiples of 3; the exact answer is a third each.
    rt_rng r;
    rt_rng_seed(&r, 1);
    uint32_t n = 3u << 30;
    enum { N = 100000 };
    int low = 0, mult3 = 0;
    for (int i = 0; i < N; i++) {
        uint32_t x = rt_rng_below(&r, n);
        cr_assert(x < n);
        low += x < (1u << 30);
        mult3 += x % 3 == 0;
    }
    cr_assert(fabs((double)low / N - 1.0 / 3) < 0.01, "below 2^30: %g", (double)low / N);
    cr_assert(fabs((double)mult3 / N - 1.0 / 3) < 0.01, "multiples of 3: %g", (double)mult3 / N);
}

static bool is_permutation(const int32_t *a, int n) {
    bool seen[1000] = {false};
    for (int i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] >= n || seen[a[i]]) return false;
        seen[a[i]] = true;
    }
    return true;
}

Test(rng, shuffle_is_reproducible_permutation) {
    int32_t a[1000], b[1000];
    for (int i = 0; i < 1000; i++) a[i] = b[i] = i;
    rt_rng r1, r2;
    rt_rng_stream(&r1, 1, 0, RT_STREAM_DATA);
    rt_rng_stream(&r2, 1, 0, RT_STREAM_DATA);
    rt_rng_shuffle(&r1, a, 1000);
    rt_rng_shuffle(&r2, b, 1000);
    cr_assert(is_permutation(a, 1000));
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    int fixed = 0;
    for (int i = 0; i < 1000; i++) fixed += a[i] == i;
    cr_assert(fixed < 10, "%d fixed points", fixed);               // expected 1
    rt_rng_shuffle(&r1, a, 0);                                     // no-ops
    rt_rng_shuffle(&r1, a, 1);
}

Test(rng, shuffle_is_uniform_over_permutations) {
    // All 24 orders of 4 items equally often (Sattolo's off-by-one would give only the 6 cycles).
    rt_rng r;
    rt_rng_seed(&r, 8);
    long count[256] = {0};
    enum { N = 48000 };
    for (int t = 0; t < N; t++) {
        int32_t a[4] = {0, 1, 2, 3};
        rt_rng_shuffle(&r, a, 4);
        count[a[0] * 64 + a[1] * 16 + a[2] * 4 + a[3]]++;
    }
    int distinct = 0;
    double chi2 = 0, e = N / 24.0;
    for (int k = 0; k < 256; k++)
        if (count[k]) {
            distinct++;
            chi2 += (count[k] - e) * (count[k] - e) / e;
        }
    cr_assert_eq(distinct, 24);
    cr_assert(chi2 < 23 + 6 * sqrt(46.0), "chi2 %g over 23 dof", chi2);
}

// The Bernoulli bits are the float draws compared with p, draw for draw, and leave the generator
// where the floats would: p at 0 and 1, p equal to the very draw it meets (not below: bit 0) and
// one float above it (bit 1), and anywhere in between.
Test(rng, bits_below_equal_the_uniform_floats_compared_with_p) {
    enum { N = 1000 };
    float p[N], drawn[N];
    uint32_t thr[N];
    rt_rng g;
    rt_rng_seed(&g, 21);
    rt_rng_fill_uniform(&g, drawn, N, 0.0f, 1.0f);
    rt_rng_seed(&g, 8);
    for (int j = 0; j < N; j++) {
        float v = (float)rt_rng_uniform(&g);
        p[j] = j % 5 == 0 ? 0.0f : j % 5 == 1 ? 1.0f : j % 5 == 2 ? drawn[j] : j % 5 == 3 ? nextafterf(drawn[j], 1.0f) : v;
        thr[j] = rt_rng_threshold(p[j]);
    }
    for (int n = 1; n <= N; n += 333) {
        rt_rng a, b;
        rt_rng_seed(&a, 21);
        b = a;
        float u[N];
        uint64_t bits[(N + 63) / 64];
        memset(bits, 0xff, sizeof bits);
        rt_rng_fill_uniform(&a, u, (size_t)n, 0.0f, 1.0f);
        rt_rng_fill_bits_below(&b, thr, (size_t)n, bits);
        int wrong = 0, ones = 0;
        for (int j = 0; j < n; j++) {
            int bit = (int)((bits[j / 64] >> (j % 64)) & 1u);
            wrong += bit != (u[j] < p[j]);
            ones += j % 5 == 3 && bit;
        }
        cr_expect_eq(wrong, 0, "n = %d: %d draws differ", n, wrong);
        cr_expect_eq(ones, (n + 1) / 5, "n = %d: a p just above its draw did not fire", n);
        if (n % 64) cr_expect_eq(bits[(n - 1) / 64] >> (n % 64), 0u, "n = %d: bits past n are set", n);
        cr_expect_eq(rt_rng_u64(&a), rt_rng_u64(&b), "n = %d: the generators part ways", n);
    }
}
