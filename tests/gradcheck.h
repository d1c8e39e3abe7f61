/*
** gradcheck.h: finite-difference gradient checks for anything built on the tape.
**
** A case builds an output from leaf inputs; the checker forms L = sum(w * out) with fixed random
** weights w, gets dL/dinput from rt_backward, and compares each checked element with the central
** difference (L(x+h) - L(x-h)) / 2h. The ops run in float, as in training (inputs, outputs and
** gradients are floats, x +- h is rounded to float); only L, the weighted sum of the outputs,
** and the difference quotient are accumulated in double. So h cannot be small (1e-3) and the
** tolerances are those of float: a rule wrong by a factor 2 or a sign fails them by far (the
** self-test in test_gradcheck.c checks that), one wrong in the fourth digit may not.
** Passing: |a - n| <= atol + rtol * max(|a|, |n|) for every element checked. Used by test_gradcheck.c (every rt_op) and by the
** tests of nn/ (layers, objective terms).
*/
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include "rt_ops.h"
#include "rt_rng.h"

#define GC_MAX_IN 3

typedef struct gc_case gc_case;
/* Builds the output from the inputs in[0..nin). */
typedef rt_tensor *(*gc_build_fn)(rt_ctx *c, rt_tensor **in, const gc_case *k);

struct gc_case {
    const char *name;
    int op;                                 /* the rt_op under test, or -1 for composites */
    int nin;
    int ndim[GC_MAX_IN];
    int shape[GC_MAX_IN][RT_MAX_DIMS];
    float lo[GC_MAX_IN], hi[GC_MAX_IN];     /* inputs drawn uniformly from [lo, hi) */
    float min_abs;                          /* redraw values closer than this to 0 (kinks) */
    gc_build_fn build;
    double eps, rtol, atol;
    int iarg;                               /* free argument for the builder */
    float farg;
};

/* Runs one case and returns the number of mismatching elements; with report, each mismatch is
** also a failed cr_expect naming the case, the input and the element. */
int gc_check(const gc_case *k, uint64_t seed, bool report);
#define gc_run(k, seed) gc_check((k), (seed), true)

#endif
