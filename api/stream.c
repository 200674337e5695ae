/* SPDX-License-Identifier: Apache-2.0
 * api/stream.c -- Docker's 8-byte multiplexed stream framing:
 * [stream type, 0, 0, 0, size as big-endian uint32] + payload. */
#include "config.h"

#include <string.h>

#include "api/api-internal.h"

void api_frame_append(struct buf *b, enum api_stream_type t, const void *p, size_t n)
{
        const char *s = p;

        /* a payload over 4 GiB would overflow the size field: split it */
        do {
                size_t k = n > UINT32_MAX ? UINT32_MAX : n;
                unsigned char hdr[API_FRAME_HEADER] = { (unsigned char)t, 0, 0, 0,
                                                        (unsigned char)(k >> 24), (unsigned char)(k >> 16),
                                                        (unsigned char)(k >> 8), (unsigned char)k };
                buf_add(b, hdr, sizeof(hdr));
                buf_add(b, s, k);
                s += k;
                n -= k;
        } while (n > 0);
}

int api_demux_feed(struct api_demux *dm, const char *p, size_t n,
                   void (*cb)(int stream, const char *p, size_t n, void *data), void *data)
{
        while (n > 0) {
                if (dm->remaining == 0) {
                        size_t k = API_FRAME_HEADER - dm->hdr_len;
                        if (k > n)
                                k = n;
                        memcpy(dm->hdr + dm->hdr_len, p, k);
                        dm->hdr_len += k;
                        p += k;
                        n -= k;
                        if (dm->hdr_len < API_FRAME_HEADER)
                                return 0;
                        dm->hdr_len = 0;
                        if (dm->hdr[0] > API_SYSTEMERR || dm->hdr[1] || dm->hdr[2] || dm->hdr[3])
                                return -EBADMSG;
                        dm->stream = dm->hdr[0];
                        dm->remaining = (size_t)dm->hdr[4] << 24 | (size_t)dm->hdr[5] << 16 |
                                        (size_t)dm->hdr[6] << 8 | dm->hdr[7];
                        continue;
                }
                size_t k = dm->remaining < n ? dm->remaining : n;
                cb(dm->stream, p, k, data);
                dm->remaining -= k;
                p += k;
                n -= k;
        }
        return 0;
}
