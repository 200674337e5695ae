/* SPDX-License-Identifier: Apache-2.0
 * lib/xalloc.c -- allocation that aborts on OOM (redis zmalloc, git xmalloc). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib.h"

void berth_oom(void)
{
        static const char msg[] = "berth: out of memory\n";

        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);

        if (!p)
                berth_oom();
        return p;
}

void *xcalloc(size_t nmemb, size_t n)
{
        void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);

        if (!p)
                berth_oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                berth_oom();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);

        if (!p)
                berth_oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);

        if (!p)
                berth_oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *p;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0)
                berth_oom();
        return p;
}
