/* SPDX-License-Identifier: Apache-2.0
 * daemon/networks.c -- the daemon's networks: predefined and user-defined
 * networks over net/, with labels, persisted, and the endpoints containers
 * hold.  (Being written: until then berthd has no network objects.) */
#include "config.h"

#include "daemon/daemon.h"

int berth_networks_open(struct berth_daemon *d, struct berth_err *err)
{
        d->networks = NULL;
        return 0;
}

void berth_networks_close(struct berth_daemon *d)
{
        d->networks = NULL;
}
