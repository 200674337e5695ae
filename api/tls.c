/* SPDX-License-Identifier: Apache-2.0
 * api/tls.c -- TLS for TCP listeners with OpenSSL memory BIOs (the only file
 * that includes OpenSSL): the loop moves ciphertext, OpenSSL never touches
 * the socket.  --tlsverify requires a client certificate signed by the CA.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api/api-internal.h"

struct tls_ctx {
        SSL_CTX *ctx;
};

struct tls_conn {
        SSL *ssl;
        BIO *rbio, *wbio;       /* owned by ssl */
        bool failed;
};

/* Drain OpenSSL's error queue into err (the queue is per thread: always
 * empty it, so a stale error is never blamed on the next call). */
static int ssl_error(struct berth_err *err, const char *what)
{
        char msg[200] = "";
        unsigned long e, first = 0;

        while ((e = ERR_get_error()))
                if (!first)
                        first = e;
        if (first)
                ERR_error_string_n(first, msg, sizeof(msg));
        return berth_err_set(err, EPROTO, "%s: %s", what, msg[0] ? msg : "unknown TLS error");
}

int tls_ctx_new(const char *ca, const char *cert, const char *key, bool verify, struct tls_ctx **ret,
                struct berth_err *err)
{
        struct tls_ctx *t;
        SSL_CTX *ctx;

        ERR_clear_error();
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx)
                return ssl_error(err, "TLS context");
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
                SSL_CTX_free(ctx);
                return ssl_error(err, "load TLS certificate");
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
                SSL_CTX_free(ctx);
                return ssl_error(err, "load TLS key");
        }
        if (ca) {
                if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
                        SSL_CTX_free(ctx);
                        return ssl_error(err, "load TLS CA");
                }
        }
        if (verify)
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        t = xcalloc(1, sizeof(*t));
        t->ctx = ctx;
        *ret = t;
        return 0;
}

struct tls_ctx *tls_ctx_free(struct tls_ctx *t)
{
        if (t) {
                SSL_CTX_free(t->ctx);
                free(t);
        }
        return NULL;
}

struct tls_conn *tls_conn_new(struct tls_ctx *t)
{
        struct tls_conn *c = xcalloc(1, sizeof(*c));

        c->ssl = SSL_new(t->ctx);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        if (!c->ssl || !c->rbio || !c->wbio)
                berth_oom();
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
        return c;
}

struct tls_conn *tls_conn_free(struct tls_conn *c)
{
        if (c) {
                SSL_free(c->ssl);
                free(c);
        }
        return NULL;
}

static void drain_out(struct tls_conn *c, struct buf *out)
{
        char tmp[16384];
        int n;

        while ((n = BIO_read(c->wbio, tmp, sizeof(tmp))) > 0)
                buf_add(out, tmp, (size_t)n);
}

int tls_conn_feed(struct tls_conn *c, const char *p, size_t n, struct buf *plain, struct buf *out,
                  struct berth_err *err)
{
        char tmp[16384];

        if (c->failed)
                return berth_err_set(err, EPROTO, "TLS connection failed earlier");
        ERR_clear_error();
        while (n > 0) {
                int w = BIO_write(c->rbio, p, n > INT32_MAX ? INT32_MAX : (int)n);
                if (w <= 0)
                        return berth_err_set(err, EIO, "TLS: buffer write failed");
                p += w;
                n -= (size_t)w;
        }
        for (;;) {
                int r = SSL_read(c->ssl, tmp, sizeof(tmp));
                if (r > 0) {
                        buf_add(plain, tmp, (size_t)r);
                        continue;
                }
                int e = SSL_get_error(c->ssl, r);
                drain_out(c, out);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                        return 0;
                if (e == SSL_ERROR_ZERO_RETURN)
                        return 0;       /* close_notify: the TCP EOF follows */
                c->failed = true;
                return ssl_error(err, "TLS");
        }
}

int tls_conn_write(struct tls_conn *c, const void *p, size_t n, struct buf *out)
{
        const char *s = p;

        if (c->failed)
                return -EPROTO;
        ERR_clear_error();
        while (n > 0) {
                int w = SSL_write(c->ssl, s, n > 65536 ? 65536 : (int)n);
                if (w <= 0) {
                        int e = SSL_get_error(c->ssl, w);
                        drain_out(c, out);
                        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                                return -EAGAIN;
                        c->failed = true;
                        ERR_clear_error();
                        return -EPROTO;
                }
                s += w;
                n -= (size_t)w;
        }
        drain_out(c, out);
        return 0;
}

void tls_conn_shutdown(struct tls_conn *c, struct buf *out)
{
        if (c->failed || !SSL_is_init_finished(c->ssl))
                return;
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
        drain_out(c, out);
}
