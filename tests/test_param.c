// test_param.c: the parameter registry, its flat buffers and the tensor headers it hands out.
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "rt_ops.h"
#include "rt_param.h"

Test(param, add_fills_header_before_finalize) {
    rt_params P;
    rt_params_init(&P);
    rt_tensor *W = rt_params_add(&P, "fc1.weight", 2, (int[]){3, 5});
    rt_tensor *b = rt_params_add(&P, "fc1.bias", 1, (int[]){3});
    cr_assert_eq(W->ndim, 2);
    cr_assert_eq(W->shape[0], 3);
    cr_assert_eq(W->shape[1], 5);
    cr_assert_eq(W->shape[2], 1);
    cr_assert_eq(W->shape[3], 1);
    cr_assert_eq(W->n, 15);
    cr_assert_eq(b->n, 3);
    cr_assert_null(W->data);
    cr_assert_null(W->grad);
    cr_assert_eq(W->op, RT_OP_LEAF);
    cr_assert_eq(W->flags, RT_PARAM | RT_NEEDS_GRAD);
    cr_assert_str_eq(W->name, "fc1.weight");
    cr_assert_eq(P.n, 2);
    cr_assert_eq(P.total, 18u);
    cr_assert_null(P.data);
    cr_assert(!P.final);
    rt_params_free(&P);
}

Test(param, finalize_lays_out_one_flat_buffer) {
    rt_params P;
    rt_params_init(&P);
    rt_tensor *a = rt_params_add(&P, "a", 1, (int[]){7});
    rt_tensor *b = rt_params_add(&P, "b", 4, (int[]){2, 3, 1, 2});
    rt_tensor *c = rt_params_add(&P, "c", 2, (int[]){1, 1});
    rt_params_finalize(&P);
    cr_assert(P.final);
    cr_assert_eq(P.total, 7u + 12u + 1u);
    cr_assert_eq((uintptr_t)P.data % 64, 0);
    cr_assert_eq((uintptr_t)P.grad % 64, 0);
    cr_assert_eq(a->data, P.data);
    cr_assert_eq(b->data, P.data + 7);
    cr_assert_eq(c->data, P.data + 19);
    cr_assert_eq(a->grad, P.grad);
    cr_assert_eq(b->grad, P.grad + 7);
    cr_assert_eq(c->grad, P.grad + 19);
    cr_assert_eq(P.items[1].off, 7u);
    cr_assert_eq(P.items[2].off, 19u);
    for (size_t i = 0; i < P.total; i++) {
        cr_assert(P.data[i] == 0.0f && P.grad[i] == 0.0f);
    }
    // Writing through a tensor is writing into the flat buffer.
    b->data[11] = 4.0f;
    cr_assert(P.data[18] == 4.0f);
    rt_params_free(&P);
}

Test(param, find_by_name) {
    rt_params P;
    rt_params_init(&P);
    rt_tensor *x = rt_params_add(&P, "enc.mu.weight", 2, (int[]){4, 2});
    rt_params_add(&P, "enc.mu.bias", 1, (int[]){4});
    const rt_param *p = rt_params_find(&P, "enc.mu.weight");
    cr_assert_not_null(p);
    cr_assert_eq(p->t, x);
    cr_assert_str_eq(p->name, "enc.mu.weight");
    cr_assert_eq(rt_params_find(&P, "enc.mu.bias")->off, 8u);
    cr_assert_null(rt_params_find(&P, "enc.mu"));
    cr_assert_null(rt_params_find(&P, "nope"));
    rt_params_free(&P);
}

Test(param, zero_grad_clears_every_gradient) {
    rt_params P;
    rt_params_init(&P);
    rt_tensor *a = rt_params_add(&P, "a", 1, (int[]){5});
    rt_tensor *b = rt_params_add(&P, "b", 2, (int[]){3, 3});
    rt_params_finalize(&P);
    for (int i = 0; i < 5; i++) a->grad[i] = 1.0f + (float)i;
    for (int i = 0; i < 9; i++) b->grad[i] = -2.0f;
    for (int i = 0; i < 5; i++) a->data[i] = 3.0f;
    rt_params_zero_grad(&P);
    for (size_t i = 0; i < P.total; i++) cr_assert(P.grad[i] == 0.0f);
    for (int i = 0; i < 5; i++) cr_assert(a->data[i] == 3.0f, "zero_grad touched the values");
    rt_params_free(&P);
}

Test(param, many_parameters_keep_their_names) {
    // The item array grows several times; tensors and their names must survive it.
    rt_params P;
    rt_params_init(&P);
    rt_tensor *t[100];
    char name[64];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "layer%d.weight", i);
        t[i] = rt_params_add(&P, name, 2, (int[]){i + 1, 2});
    }
    rt_params_finalize(&P);
    size_t off = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "layer%d.weight", i);
        cr_assert_str_eq(t[i]->name, name);
        const rt_param *p = rt_params_find(&P, name);
        cr_assert_eq(p->t, t[i]);
        cr_assert_eq(p->off, off);
        cr_assert_eq(t[i]->data, P.data + off);
        off += (size_t)(2 * (i + 1));
    }
    cr_assert_eq(P.total, off);
    rt_params_free(&P);
}

Test(param, free_resets_to_empty) {
    rt_params P;
    rt_params_init(&P);
    rt_params_add(&P, "a", 1, (int[]){5});
    rt_params_finalize(&P);
    rt_params_free(&P);
    cr_assert_eq(P.n, 0);
    cr_assert_eq(P.total, 0u);
    cr_assert_null(P.data);
    cr_assert_null(P.grad);
    cr_assert(!P.final);
    // Usable again; an empty registry finalizes too.
    rt_params_finalize(&P);
    cr_assert_not_null(P.data);
    rt_params_zero_grad(&P);
    rt_params_free(&P);
}

Test(param, duplicate_name_aborts, .signal = SIGABRT) {
    rt_params P;
    rt_params_init(&P);
    rt_params_add(&P, "w", 1, (int[]){2});
    rt_params_add(&P, "w", 1, (int[]){3});
}

// Objective terms add their parameters after the model's: the registry reopens, and the values
// and tensors of earlier parameters survive the second finalize.
Test(param, add_after_finalize_reopens_and_keeps_values) {
    rt_params P;
    rt_params_init(&P);
    rt_tensor *w = rt_params_add(&P, "w", 1, (int[]){2});
    rt_params_finalize(&P);
    w->data[0] = 3.0f;
    w->data[1] = -4.0f;
    rt_tensor *v = rt_params_add(&P, "v", 1, (int[]){3});
    cr_assert(!P.final);
    rt_params_finalize(&P);
    cr_assert_eq(P.total, 5);
    cr_assert_eq(w->data, P.data);
    cr_assert_eq(v->data, P.data + 2);
    cr_assert_eq(w->data[0], 3.0f);
    cr_assert_eq(w->data[1], -4.0f);
    cr_assert_eq(v->grad, P.grad + 2);
    for (int i = 0; i < 3; i++) cr_assert_eq(v->data[i], 0.0f);
    rt_params_free(&P);
}

Test(param, bad_shape_aborts, .signal = SIGABRT) {
    rt_params P;
    rt_params_init(&P);
    rt_params_add(&P, "w", 2, (int[]){4, 0});
}
