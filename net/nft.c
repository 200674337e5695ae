/* SPDX-License-Identifier: Apache-2.0
 * net/nft.c -- runs nftables scripts through libnftables.  The only file of
 * berth that includes <nftables/libnftables.h>.  Synchronous (one netlink
 * transaction per call). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "net/net-internal.h"

static void ctx_freep(struct nft_ctx **c)
{
        if (*c)
                nft_ctx_free(*c);
}

static struct nft_ctx *ctx_new(void)
{
        struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);

        if (!c)
                berth_oom();
        (void)nft_ctx_buffer_output(c);
        (void)nft_ctx_buffer_error(c);
        return c;
}

/* first line of libnftables' error text, for a one-line message */
static void first_line(const char *s, char *out, size_t outlen)
{
        size_t n = s ? strcspn(s, "\n") : 0;

        if (n >= outlen)
                n = outlen - 1;
        if (n)
                memcpy(out, s, n);
        out[n] = '\0';
}

int net__nft_run(const char *script, struct berth_err *err)
{
        _cleanup_(ctx_freep) struct nft_ctx *c = ctx_new();
        char msg[160];

        if (nft_run_cmd_from_buffer(c, script) != 0) {
                first_line(nft_ctx_get_error_buffer(c), msg, sizeof(msg));
                return berth_err_set(err, EIO, "nftables: %s", msg[0] ? msg : "failed");
        }
        return 0;
}

int net__nft_table_exists(const char *name, struct berth_err *err)
{
        _cleanup_(ctx_freep) struct nft_ctx *c = ctx_new();
        _cleanup_free_ char *cmd = xasprintf("list table inet %s", name);

        (void)err;
        return nft_run_cmd_from_buffer(c, cmd) == 0 ? 1 : 0;
}
