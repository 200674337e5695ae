/* SPDX-License-Identifier: Apache-2.0
 * runtime/monitor.h -- the protocol between berthd and berth-monitor, the
 * per-container (and per-exec) supervisor: its command line, the files it
 * keeps in its state dir, the events it reports and the framed messages of
 * its attach socket.  Only constants live here; berthd speaks the protocol
 * from its own loop.
 *
 * 1. Command line
 *
 *   berth-monitor --runtime PATH [--runtime-arg ARG]... --id ID
 *                 --state-dir DIR (--bundle DIR | --exec PROCESS_JSON)
 *                 [--log-path FILE [--log-max-size N] [--log-max-file N]
 *                  [--log-attrs JSON_OBJECT]]
 *                 [--tty] [--stdin] [--stdin-once] [--sync-fd N]
 *                 [--auto-start] [--keep] [--exec-fifo PATH] [--foreground]
 *                 [--debug]
 *
 *   --runtime PATH       the OCI runtime binary (runc command-line contract).
 *   --runtime-arg ARG    a global argument put before every runtime command,
 *                        repeatable, e.g. --runtime-arg=--root
 *                        --runtime-arg=/run/berth/runc.  Do not pass --log or
 *                        --log-format: the monitor adds its own (below).
 *   --id ID              the container id given to the runtime.
 *   --state-dir DIR      the monitor's directory (created 0700 if missing).
 *                        DIR plus "/console.sock" must fit a sun_path (107
 *                        bytes): keep it short, e.g. /run/berth/<id>/ for the
 *                        container and /run/berth/<id>/x<12 hex>/ for an exec.
 *   --bundle DIR         container mode: `RUNTIME create --bundle DIR
 *                        --pid-file F [--console-socket S] ID` (cwd: DIR),
 *                        then on START `RUNTIME start ID`; at the end
 *                        `RUNTIME delete ID` (again with --force if that
 *                        fails); `delete --force ID` after a failed start or
 *                        an abort; nothing after a failed create (the id may
 *                        be another monitor's running container).
 *   --exec FILE          exec mode: on START `RUNTIME exec --process FILE
 *                        --pid-file F [--console-socket S] --detach ID`.  The
 *                        runtime's delete is never run in exec mode.
 *   --log-path FILE      write the json-file log there (container mode; exec
 *                        output is not logged, as in Docker).  Without it the
 *                        output only goes to attach clients.
 *   --log-max-size N     rotate when the file has reached N bytes (decimal,
 *                        optional k/m/g suffix in powers of 1000 like
 *                        Docker's units.FromHumanSize).  Default: never.
 *   --log-max-file N     keep FILE, FILE.1 ... FILE.(N-1) (default 1: the
 *                        full file is replaced by an empty one).
 *   --log-attrs JSON     a JSON object written raw as "attrs" in every line
 *                        (Docker's labels/env log options).
 *   --tty                the process has a terminal: the runtime is given
 *                        --console-socket and the pty master comes back over
 *                        it (SCM_RIGHTS); output is one stream (stdout).
 *   --stdin              keep the process's stdin open (a pipe, or the pty)
 *                        and feed it from the clients.  Without it stdin is
 *                        /dev/null and stdin bytes from clients are dropped.
 *   --stdin-once         close the process's stdin when a client attached
 *                        with MON_ATTACH_STDIN reaches end of input.
 *   --sync-fd N          an inherited fd (pipe) where the monitor writes its
 *                        events as JSON lines (section 3).  It stays open
 *                        for the monitor's whole life; EPIPE is ignored.
 *   --auto-start         start right after create (exec: at once) instead of
 *                        waiting for a MON_FRAME_START message.
 *   --keep               do not run `RUNTIME delete` at the end.
 *   --exec-fifo PATH     container mode with berth-runtime: start by writing
 *                        one byte to its exec fifo PATH (<root>/<id>/exec.fifo)
 *                        and removing it, as `berth-runtime start` does,
 *                        instead of running it (no poststart hooks then).
 *   --foreground         do not fork/setsid (debugging); the process is then
 *                        the monitor itself.
 *   --debug              debug lines in MON_FILE_LOG.
 *
 * Every runtime command is `RUNTIME [--runtime-arg...] --log STATE/runtime.log
 * --log-format json CMD...`, with the monitor's environment, PDEATHSIG
 * SIGKILL, the oom_score_adj berthd gave the monitor (the monitor itself
 * takes -999), killed after 120 s.  Non-tty stdio of create/exec is the
 * process's pipes (the runtime passes them on); with a tty the runtime's
 * stdout/stderr go to MON_FILE_RTERR.  On failure the message is the last
 * "level":"error" msg of runtime.log, else the last line the runtime printed.
 *
 * Process model.  Unless --foreground, the program forks; the child calls
 * setsid() and forks the monitor, then exits; the monitor is thus in no
 * process group or session of berthd's and (berthd being a child subreaper)
 * is re-parented to berthd.  The process berthd started waits until the
 * monitor has done its first step, then exits:
 *   0  container mode: the runtime's create succeeded (with --auto-start:
 *      create and start succeeded); exec mode: the monitor is listening
 *      (with --auto-start: the exec started);
 *   1  that step failed; the runtime's error text is on its stderr;
 *   2  bad command line.
 * The monitor ignores SIGPIPE and SIGHUP, is PR_SET_CHILD_SUBREAPER, keeps
 * running when berthd dies, closes every inherited fd but --sync-fd, and
 * has stdin/stdout on /dev/null and stderr appended to MON_FILE_LOG.
 * SIGTERM/SIGINT sent to the monitor are forwarded to the process once it
 * started; before that they abort (the created container is deleted).
 * berthd should open a pidfd on the monitor pid (its child through the
 * subreaper) and reap it with waitid(P_PIDFD).  The monitor's own exit
 * status: 0 after a process ran and MON_FILE_EXIT was written, 1 when
 * create/start/exec failed (MON_FILE_EXIT holds the error).
 *
 * 2. Files in the state dir
 */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#define MON_FILE_PID "monitor.pid"      /* "<pid>\n", atomic; removed at exit */
#define MON_FILE_SOCK "attach"          /* the attach socket (unix, stream, 0600) */
#define MON_FILE_EXIT "exit.json"       /* exit status: atomic + fsync, kept; a
                                         * stale one is removed at start */
#define MON_FILE_LOG "monitor.log"      /* the monitor's own diagnostics (stderr) */
#define MON_FILE_RTLOG "runtime.log"    /* the runtime's --log (json), per command */
#define MON_FILE_RTERR "runtime.err"    /* the runtime's stdout/stderr (tty mode) */
#define MON_FILE_CPID "container.pid"   /* the runtime's --pid-file */
#define MON_FILE_CONSOLE "console.sock" /* --console-socket, removed once used */

/*
 * MON_FILE_EXIT is one JSON object, written before the attach clients are
 * closed and before the monitor exits:
 *   {"id":"<id>","exec":false,"pid":1234,"exit_code":137,"signal":9,
 *    "oom_killed":false,"oom_checked":true,
 *    "started_at":"2026-11-29T02:11:34.505112863Z",
 *    "finished_at":"2026-11-29T02:11:35.000000000Z",
 *    "started_at_ns":1795918294505112863,"finished_at_ns":1795918295000000000,
 *    "error":"","stage":""}
 *   exit_code: the exit status, or 128+N when killed by signal N (signal is
 *   then N, else 0).  oom_killed: the container's memory cgroup counted an
 *   OOM kill (memory.oom_control on v1, memory.events on v2); oom_checked
 *   is false when that could not be read (exec mode, no memory cgroup).
 *   Times are UTC with 9 fraction digits, and the same as nanoseconds since
 *   the epoch (*_ns; exact as text, but cJSON reads them as doubles, to
 *   about 256 ns); started_at (finished_at) is the "0001-01-01T00:00:00Z"
 *   zero time and *_ns 0 when the process never started (ended).  When create, start or exec failed: exit_code -1, pid 0 (or
 *   the created pid), stage "create"|"start"|"exec"|"abort" and error the
 *   runtime's message, e.g. `runc create failed: unable to start container
 *   process: exec: "nothere": executable file not found in $PATH`.
 *
 * 3. Events (JSON objects; on --sync-fd one per line, on the socket in
 *    MON_FRAME_EVENT frames to clients attached with MON_ATTACH_EVENTS,
 *    which first get the current state when they attach):
 *   {"event":"ready","monitor_pid":M,"monitor_starttime":T}   exec mode, listening
 *   {"event":"created","pid":P,"monitor_pid":M,"monitor_starttime":T}
 *                                                    container mode, created
 *   (T: field 22 of /proc/M/stat, to tell the monitor from a reused pid
 *   after a restart of berthd)
 *   {"event":"started","pid":P,"started_at":"...","started_at_ns":N}
 *   {"event":"error","stage":"create|start|exec|abort","message":"...",
 *    "runtime_status":S}                             then the monitor exits
 *   {"event":"exited", ...every member of MON_FILE_EXIT...}
 *
 * 4. The attach socket: any number of clients (up to MON_MAX_CLIENTS);
 *    every message in both directions is a frame: an 8-byte header
 *    [type, 0, 0, 0, length as uint32 big-endian] then length bytes.  This is
 *    Docker's multiplexed stream header, so output frames can be copied to a
 *    non-tty attach/exec client verbatim.
 */
#define MON_FRAME_HDR 8

/* monitor -> client */
#define MON_FRAME_STDOUT 1      /* output; with a tty all output is STDOUT */
#define MON_FRAME_STDERR 2
#define MON_FRAME_EVENT 0x81    /* JSON event object (no newline) */

/* client -> monitor */
#define MON_FRAME_STDIN 0       /* bytes for the process's stdin */
#define MON_FRAME_ATTACH 0x10   /* 1 byte: MON_ATTACH_* flags (replaces earlier ones) */
#define MON_FRAME_START 0x11    /* empty: run start/exec if still waiting */
#define MON_FRAME_RESIZE 0x12   /* 4 bytes: rows, cols as uint16 big-endian */
#define MON_FRAME_KILL 0x13     /* 4 bytes: signal number, uint32 big-endian */
#define MON_FRAME_STDIN_EOF 0x14   /* empty: this client's end of input */
#define MON_FRAME_CLOSE_STDIN 0x15 /* empty: close the process's stdin now */

#define MON_CTL_MAX 256         /* longest payload of a frame other than STDIN */

/*
 * A new connection receives nothing until it sends MON_FRAME_ATTACH; a
 * control-only connection (START, RESIZE, KILL) never needs to read.
 * Attach flags:
 */
#define MON_ATTACH_STDOUT 0x01  /* receive stdout frames (all tty output) */
#define MON_ATTACH_STDERR 0x02  /* receive stderr frames */
#define MON_ATTACH_STDIN 0x04   /* this client's end of input is stdin EOF */
#define MON_ATTACH_EVENTS 0x08  /* receive MON_FRAME_EVENT frames */
#define MON_ATTACH_RAW_OUT 0x10 /* output (still chosen by STDOUT/STDERR) as raw
                                 * bytes, no headers, no events: tty attach */
#define MON_ATTACH_RAW_IN 0x20  /* every later byte from the client is stdin */

/*
 * Semantics:
 * - Output is sent live, from the moment of the ATTACH; earlier output is
 *   only in the log.  Attach after create and before START to see the first
 *   byte.  A client that does not read holds the process back (like
 *   Docker): output is not read from the process while a client has more
 *   than MON_CLIENT_OUT_MAX bytes queued.  The log keeps being written
 *   while nobody is attached.
 * - End of input of a MON_ATTACH_STDIN client (shutdown(SHUT_WR), close, or
 *   MON_FRAME_STDIN_EOF) closes the process's stdin when --stdin-once is set,
 *   once the stdin bytes received before it were written.  With a tty the
 *   pty stays open (a pty has no half-close).  MON_FRAME_CLOSE_STDIN closes
 *   it whatever the options.  Stdin sent before START is kept for the
 *   process (up to the pipe size plus MON_STDIN_MAX bytes, then the
 *   senders are not read).
 * - RESIZE sets the pty size (TIOCSWINSZ); before the pty exists it is kept
 *   and applied when the pty arrives.  Without a tty it is ignored.
 * - KILL sends the signal to the process (the monitor is its parent or
 *   subreaper, so the pid cannot have been reused).  `RUNTIME kill` works too.
 * - When the process has exited: the output is read to its end (or until
 *   no byte came for MON_DRAIN_IDLE_MS while no client held it back, or
 *   MON_DRAIN_MAX_MS after the exit at most), the log is flushed, MON_FILE_EXIT is
 *   written with fsync, the "exited" event is sent, the clients' queued
 *   output is flushed (bounded by MON_CLOSE_MS), every client is closed,
 *   `RUNTIME delete ID` runs (container mode, unless --keep), the socket and
 *   pid files are removed and the monitor exits.  So the socket's EOF means
 *   MON_FILE_EXIT is final (what exec inspect needs right after the stream).
 * - Bad frames (unknown type, control payload over MON_CTL_MAX) close the
 *   connection.
 */
#define MON_MAX_CLIENTS 64
#define MON_CLIENT_OUT_MAX (64 * 1024)
#define MON_STDIN_MAX (64 * 1024)
#define MON_DRAIN_IDLE_MS 1000
#define MON_DRAIN_MAX_MS 10000
#define MON_CLOSE_MS 2000

/*
 * 5. The json-file log, as Docker's json-file driver writes it: one line
 *    {"log":"<bytes, JSON-escaped>","stream":"stdout|stderr","time":"<RFC 3339
 *    nano, UTC, trailing zeros trimmed>"} (+ ,"attrs":{...} before "time" with
 *    --log-attrs) per line of output, the "\n" kept in "log".  A line longer
 *    than MON_LOG_LINE_MAX is cut into pieces of that size without "\n"; the
 *    pieces and the line's end share the first piece's time.  Output left
 *    without a newline at the end is written without "\n".  File mode 0640.
 */
#define MON_LOG_LINE_MAX (16 * 1024)

#endif
