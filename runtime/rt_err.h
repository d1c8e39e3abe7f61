/*
** rt_err.h: the error buffer for user-facing errors (channel b of rt_base.h).
**
** A function that can fail because of its input takes an `rt_err *` and returns rt_status. On
** failure it writes one message that says what is wrong and what to do, e.g.
**     "linear: in=784 but the previous layer outputs 256; set in=256 or remove it".
** The first error wins: rt_err_set does not overwrite a message already there, so the innermost
** (most precise) failure survives while callers unwind. rt_err_prefix adds context in front
** ("data/train.csv:12: ").
*/
#ifndef RT_ERR_H
#define RT_ERR_H

#include "rt_base.h"

#define RT_ERR_MAX 1024

typedef struct rt_err {
    rt_status status;
    char msg[RT_ERR_MAX];
} rt_err;

/* Records status and a formatted message unless one is already set. Returns status, so that
** `return rt_err_set(err, RT_ERR_IO, "...")` reads naturally. err may be NULL. */
rt_status rt_err_set(rt_err *err, rt_status status, const char *fmt, ...) RT_PRINTF(3, 4);
/* Puts formatted context in front of the message already set (no-op when none is set). */
void rt_err_prefix(rt_err *err, const char *fmt, ...) RT_PRINTF(2, 3);
void rt_err_clear(rt_err *err);
const char *rt_status_name(rt_status s);

#endif
