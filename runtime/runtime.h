/* SPDX-License-Identifier: Apache-2.0
 * runtime/runtime.h -- what berthd needs to know about berth-runtime.
 *
 * berth-runtime is a separate program with the runc command-line contract;
 * berthd and berth-monitor drive it through that CLI only.  Its state lives
 * in <root>/<id>/ (root: --root, default BERTH_RUNTIME_ROOT):
 *   state.json   {"id","pid","start_time","bundle","rootfs","created","owner",
 *                 "annotations","cgroup_paths","config"}
 *   exec.fifo    present while the container is "created"; `start` writes it.
 */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#define BERTH_RUNTIME_ROOT "/run/berth-runtime"
#define BERTH_RUNTIME_NAME "berth-runtime"

#endif
