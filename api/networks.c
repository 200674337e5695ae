/* SPDX-License-Identifier: Apache-2.0
 * api/networks.c -- /networks endpoints.  (Being written.) */
#include "config.h"

#include "api/api-internal.h"

const struct api_route api_network_routes[] = {
        { "GET", "/networks", NULL, 0 },
};
const size_t api_n_network_routes = 0;
