/* SPDX-License-Identifier: Apache-2.0
 * lib/buf.c -- a growable byte buffer (git strbuf, redis sds in spirit). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib.h"

void buf_init(struct buf *b)
{
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
}

void buf_release(struct buf *b)
{
        free(b->data);
        buf_init(b);
}

void buf_reset(struct buf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

void buf_grow(struct buf *b, size_t extra)
{
        size_t need = b->len + extra + 1;

        if (need < b->len)
                berth_oom();
        if (need <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap = cap * 2 < cap ? need : cap * 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
        buf_grow(b, n);
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
        buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
        buf_add(b, &c, 1);
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
        va_list cp;
        int n;

        va_copy(cp, ap);
        buf_grow(b, 64);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
        va_end(cp);
        if (n < 0)
                return;
        if ((size_t)n >= b->cap - b->len) {
                buf_grow(b, (size_t)n);
                n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
                if (n < 0)
                        return;
        }
        b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        buf_vaddf(b, fmt, ap);
        va_end(ap);
}

void buf_consume(struct buf *b, size_t n)
{
        if (n >= b->len) {
                buf_reset(b);
                return;
        }
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
        b->data[b->len] = '\0';
}

const char *buf_cstr(struct buf *b)
{
        if (!b->data)
                buf_grow(b, 0), b->data[0] = '\0';
        return b->data;
}

char *buf_detach(struct buf *b, size_t *ret_len)
{
        char *p;

        buf_cstr(b);
        p = b->data;
        if (ret_len)
                *ret_len = b->len;
        buf_init(b);
        return p;
}
