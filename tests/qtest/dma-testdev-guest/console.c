/*
 * dma-testdev guest-level qtest: the guest's serial console.  How it
 * reaches the test (a pipe that never fills), reading it to the guest's
 * power-off, sorting kernel records from user space's lines, and the
 * protocol lines of docs/guest-protocol.rst.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "guest.h"

static char *dmatd_field(const char *line, const char *key)
{
    g_autofree char *pat = g_strdup_printf(" %s=", key);
    const char *p = strstr(line, pat);
    size_t n;

    if (!p) {
        return NULL;
    }
    p += strlen(pat);
    n = strcspn(p, " \r\n");
    return g_strndup(p, n);
}

static uint64_t dmatd_field_u64(DmatdVm *vm, const char *line, const char *key)
{
    g_autofree char *v = dmatd_field(line, key);
    uint64_t n;

    if (!v || qemu_strtou64(v, NULL, 0, &n)) {
        dmatd_error(vm, "protocol: no number %s= in '%s'", key, line);
        return 0;
    }
    return n;
}

static void dmatd_send(DmatdVm *vm, const char *s)
{
    size_t len = strlen(s), done = 0;

    while (done < len) {
        ssize_t n = write(vm->input_fd, s + done, len - done);

        g_assert_cmpint(n, >, 0);
        done += n;
    }
}

void dmatd_buf_free(gpointer p)
{
    DmatdBuf *b = p;

    g_free(b->name);
    g_free(b->page_gpa);
    g_free(b->first_gpa);
    g_array_free(b->runs, true);
    g_array_free(b->moved, true);
    g_array_free(b->cmds, true);
    g_array_free(b->writes, true);
    g_free(b);
}

static void dmatd_begin(DmatdVm *vm, const char *line)
{
    g_autofree char *mode = dmatd_field(line, "mode");
    DmatdBuf *b = g_new0(DmatdBuf, 1);
    uint64_t i;

    b->name = dmatd_field(line, "case");
    b->name = b->name ? b->name : g_strdup("?");
    b->legacy = mode && !strcmp(mode, "legacy");
    b->len = dmatd_field_u64(vm, line, "len");
    b->offset = dmatd_field_u64(vm, line, "offset");
    b->nonce = dmatd_field_u64(vm, line, "nonce");
    g_assert_cmpuint(b->offset, <, DMATD_PAGE);
    b->npages = DIV_ROUND_UP(b->offset + b->len, DMATD_PAGE);
    b->page_gpa = g_new(uint64_t, b->npages);
    b->first_gpa = g_new(uint64_t, b->npages);
    for (i = 0; i < b->npages; i++) {
        b->page_gpa[i] = b->first_gpa[i] = DMATD_NONE;
    }
    b->runs = g_array_new(false, false, sizeof(DmatdRun));
    b->moved = g_array_new(false, false, sizeof(uint64_t));
    b->cmds = g_array_new(false, false, sizeof(DmatdCmd));
    b->writes = g_array_new(false, false, sizeof(DmatdRun));
    b->log_seq = dmatd_log_seq(vm->qts, "dt0");
    vm->cur = b;
}

/* "@dt wait": stop the VM, look, let it go on. */
static void dmatd_wait(DmatdVm *vm, const char *line)
{
    g_autofree char *what = dmatd_field(line, "what");
    g_autofree char *nonce_s = dmatd_field(line, "nonce");
    DmatdBuf *b = vm->cur;

    g_assert_nonnull(b);
    qtest_qmp_assert_success(vm->qts, "{'execute': 'stop'}");
    if (what && !strcmp(what, "checked")) {
        /* One read of the log: the pattern scan and the log check agree. */
        g_autoptr(QList) log = dmatd_dma_log(vm, b->log_seq + 1);

        if (!b->legacy) {
            dmatd_check_runs(vm, b);
        }
        if (b->wrote) {
            dmatd_check_pattern(vm, b, log);
        }
        dmatd_check_log(vm, b, log);
    } else {
        /* After moving pages the tool rewrites them with a new nonce. */
        dmatd_scan_tags(vm, b, nonce_s ? dmatd_field_u64(vm, line, "nonce")
                                     : b->nonce);
    }
    qtest_qmp_assert_success(vm->qts, "{'execute': 'cont'}");
    dmatd_send(vm, "go\n");
}

static void dmatd_line(DmatdVm *vm, const char *line)
{
    const char *p = strstr(line, "@dt ");
    DmatdBuf *b = vm->cur;

    if (!p) {
        return;
    }
    p += 4;
    if (g_str_has_prefix(p, "begin ")) {
        g_assert_null(vm->cur);
        dmatd_begin(vm, p - 1);
    } else if (g_str_has_prefix(p, "wait ")) {
        dmatd_wait(vm, p - 1);
    } else if (g_str_has_prefix(p, "run ") && b) {
        DmatdRun r = {
            .iova = dmatd_field_u64(vm, p - 1, "iova"),
            .pa = dmatd_field_u64(vm, p - 1, "pa"),
            .len = dmatd_field_u64(vm, p - 1, "len"),
        };

        g_array_append_val(b->runs, r);
    } else if (g_str_has_prefix(p, "moved ") && b) {
        uint64_t page = dmatd_field_u64(vm, p - 1, "page");

        g_array_append_val(b->moved, page);
    } else if (g_str_has_prefix(p, "dma ") && b) {
        g_autofree char *op = dmatd_field(p - 1, "op");
        DmatdCmd cmd = {
            .seq = dmatd_field_u64(vm, p - 1, "seq"),
            .list_pa = dmatd_field_u64(vm, p - 1, "list"),
            .list_len = dmatd_field_u64(vm, p - 1, "segs") * DMATD_SEG_SIZE,
        };

        g_array_append_val(b->cmds, cmd);
        if (op && !strcmp(op, dmatd_op_name(DMATD_OP_WRITE_PATTERN))) {
            b->wrote = true;
            b->seed = dmatd_field_u64(vm, p - 1, "seed");
        }
    } else if (g_str_has_prefix(p, "end ") && b) {
        g_autofree char *result = dmatd_field(p - 1, "result");

        b->passed = result && !strcmp(result, "pass");
        g_ptr_array_add(vm->bufs, b);
        vm->cur = NULL;
    } else if (g_str_has_prefix(p, "dma-map ")) {
        g_autofree char *dev = dmatd_field(p - 1, "dev");
        g_autofree char *dir = dmatd_field(p - 1, "dir");
        DmatdDmaMap m = {
            .addr = dmatd_field_u64(vm, p - 1, "addr"),
            .size = dmatd_field_u64(vm, p - 1, "size"),
        };

        g_strlcpy(m.dev, dev ?: "", sizeof(m.dev));
        g_strlcpy(m.dir, dir ?: "", sizeof(m.dir));
        g_array_append_val(vm->maps, m);
    } else if (g_str_has_prefix(p, "dma-range ")) {
        DmatdRun r = {
            .pa = dmatd_field_u64(vm, p - 1, "pa"),
            .len = dmatd_field_u64(vm, p - 1, "len"),
        };

        g_array_append_val(vm->ranges, r);
    } else if (g_str_has_prefix(p, "selftest ")) {
        vm->selftests++;
    } else if (g_str_has_prefix(p, "dma-map-done ")) {
        vm->map_overrun = dmatd_field_u64(vm, p - 1, "overrun");
    } else if (g_str_has_prefix(p, "container ")) {
        g_free(vm->container);
        vm->container = dmatd_field(p - 1, "backend");
        dmatd_msg("legacy VFIO container served by %s", vm->container);
    } else if (g_str_has_prefix(p, "exit ")) {
        vm->tool_status = dmatd_field_u64(vm, p - 1, "status");
    } else if (g_str_has_prefix(p, "check name=remap-race ")) {
        /* The figures, on success too: how hard the race was tried. */
        dmatd_msg("%s", p);
    }
}

/* The guest's console, a line per message, for a failure's context. */
void dmatd_dump_console(DmatdVm *vm)
{
    g_auto(GStrv) lines = g_strsplit(vm->console->str, "\n", -1);
    char **l;

    for (l = lines; *l; l++) {
        dmatd_msg("console: %s", *l);
    }
}


/*
 * Where a kernel record starts in a console line: "[%5lu.%06lu] "
 * (PRINTK_TIME), at any column; NULL if the line has none.
 */
static const char *dmatd_kernel_record(const char *line)
{
    const char *p;

    for (p = strchr(line, '['); p; p = strchr(p + 1, '[')) {
        const char *q = p + 1;
        size_t frac;

        q += strspn(q, " ");
        if (!g_ascii_isdigit(*q)) {
            continue;
        }
        q += strspn(q, "0123456789");
        if (*q != '.') {
            continue;
        }
        frac = strspn(q + 1, "0123456789");
        if (frac == 6 && g_str_has_prefix(q + 1 + frac, "] ")) {
            return p;
        }
    }
    return NULL;
}

static bool dmatd_burst_case(const DmatdVm *vm)
{
    return vm->gcase && (vm->gcase->expect == DMATD_EXPECT_CONSOLE_WHOLE ||
                         vm->gcase->expect == DMATD_EXPECT_CONSOLE_LOSS);
}

/*
 * What the console burst prints after its first line, at least: the user
 * lines with their CR LF, and the kernel records with a timestamp of at
 * least "[%5lu.%06lu] ".
 */
size_t dmatd_burst_rest(void)
{
    size_t n = 0;
    unsigned i;

    for (i = 0; i < DMATD_BURST_LINES; i++) {
        size_t digits = snprintf(NULL, 0, "%u", i);
        size_t text = strlen("dt-console u ") + digits +
                      strlen(DMATD_BURST_FILL) + 2;

        n += (i ? text : 0) + strlen("[    0.000000] ") + text;
    }
    return n;
}

/*
 * The console burst: at its first line, stop reading, as a reader busy
 * with a slow check would.  Over the console pipe, until the pipe holds
 * the rest of the burst unread (less what the last read already took):
 * the guest never waited for this reader.  Over a socket, until the
 * socket has taken nothing more for DMATD_STALL_FULL_S: it is full, the
 * guest waits, and meanwhile the kernel's records overrun the UART's
 * FIFO (see dmatd_console_open()).  At most DMATD_STALL_MAX_S either way.
 */
#define DMATD_STALL_FULL_S  3
#define DMATD_STALL_MAX_S   60

static void dmatd_console_stall(DmatdVm *vm)
{
    gint64 start = g_get_monotonic_time(), now = start, grew = start;
    size_t want = dmatd_burst_rest() - DMATD_CONSOLE_CHUNK;
    int queued = 0, was = -1;

    vm->stalled = true;
    while (now - start < DMATD_STALL_MAX_S * G_USEC_PER_SEC) {
        g_assert_cmpint(ioctl(vm->console_fd, FIONREAD, &queued), ==, 0);
        if (queued >= want) {
            break;
        }
        if (queued != was) {
            was = queued;
            grew = now;
        } else if (vm->gcase->console_socket &&
                   now - grew >= DMATD_STALL_FULL_S * G_USEC_PER_SEC) {
            break;
        }
        g_usleep(10 * 1000);
        now = g_get_monotonic_time();
    }
    vm->stall_s = (g_get_monotonic_time() - start) / 1e6;
    vm->stall_queued = queued;
    dmatd_msg("console: the reader stalled %.2f s while the console queued "
              "%d bytes (the burst's rest: %zu or more)", vm->stall_s,
              queued, want);
}

/*
 * One console line, sorted.  The kernel and the guest's user space share
 * the serial console, and a kernel record can land in the middle of a
 * line the tool is still writing: the console then reads "ok 33 name #
 * SKIP rea[   21.02] vfio-pci ...: resetting\r\n" and "son\r\n".  A
 * record is printed whole (under the port lock) and ends its console line,
 * so the text before it is the start of a user line that goes on in the
 * next console line.  The tool's lines and the kernel's are each read
 * whole from vm->output and vm->kmsg; vm->console keeps the bytes as they
 * came, for the evidence.
 */
static void dmatd_console_line(DmatdVm *vm, const char *line)
{
    const char *rec = dmatd_kernel_record(line);

    if (rec) {
        g_string_append_len(vm->cut, line, rec - line);
        g_string_append_printf(vm->kmsg, "%s\n", rec);
        return;
    }
    g_string_append(vm->cut, line);
    if (dmatd_burst_case(vm) && !vm->stalled &&
        g_str_has_prefix(vm->cut->str, "dt-console u0 ")) {
        dmatd_console_stall(vm);
    }
    g_string_append_printf(vm->output, "%s\n", vm->cut->str);
    dmatd_line(vm, vm->cut->str);
    g_string_truncate(vm->cut, 0);
}

/* Console bytes: keep them, and act on every whole line. */
void dmatd_feed(DmatdVm *vm, const char *buf, size_t n)
{
    char *nl;

    g_string_append_len(vm->console, buf, n);
    g_string_append_len(vm->pending, buf, n);
    while ((nl = memchr(vm->pending->str, '\n', vm->pending->len))) {
        g_autofree char *line = g_strndup(vm->pending->str,
                                          nl - vm->pending->str);

        g_string_erase(vm->pending, 0, nl - vm->pending->str + 1);
        dmatd_console_line(vm, line);
    }
}

/* Take in whatever the console holds now, without waiting. */
static void dmatd_drain_console(DmatdVm *vm)
{
    struct pollfd pfd = { .fd = vm->console_fd, .events = POLLIN };
    char buf[DMATD_CONSOLE_CHUNK];
    ssize_t n;

    while (poll(&pfd, 1, 0) > 0 &&
           (n = read(vm->console_fd, buf, sizeof(buf))) > 0) {
        dmatd_feed(vm, buf, n);
    }
}

/*
 * A guest power-off (or a panic: -no-reboot makes it one) pauses QEMU
 * instead of ending it (-action shutdown=pause), so that the device's DMA
 * log can still be read after "@dt exit", however long it takes.  Returns
 * whether the guest is off, with everything it printed read; a power-off
 * before "@dt exit" is a dead guest: say so at once.
 */
static bool dmatd_powered_off(DmatdVm *vm, const DmatdGuestCase *c)
{
    g_autoptr(QDict) resp = qtest_qmp(vm->qts,
                                      "{'execute': 'query-status'}");
    QDict *ret = qdict_get_qdict(resp, "return");

    if (!ret || strcmp(qdict_get_str(ret, "status"), "shutdown")) {
        return false;
    }
    /*
     * The UART hands each byte to the pipe as the guest writes it: all
     * the guest printed is there now.
     */
    dmatd_drain_console(vm);
    if (vm->tool_status >= 0) {
        return true;
    }
    dmatd_dump_console(vm);
    dmatd_keep_evidence(vm, c);
    g_error("guest powered off before the tool exited");
}

/*
 * Read the console until the guest is off, not only until "@dt exit".
 * The kernel's console printer runs behind, in a thread of its own (7.3's
 * 8250 is an nbcon console): records from before the tool's end, a WARN
 * in a release path at its exit among them, reach the console after that
 * line, and the kernel prints them all before it powers off.  The console
 * is then quiet: once the tool has exited, every pause in it longer than
 * DMATD_QUIET_MS asks QEMU whether the guest is off.
 */
#define DMATD_QUIET_MS 20

void dmatd_run_console(DmatdVm *vm, const DmatdGuestCase *c)
{
    char buf[DMATD_CONSOLE_CHUNK];

    for (;;) {
        struct pollfd pfd = { .fd = vm->console_fd, .events = POLLIN };
        int left = (vm->deadline - g_get_monotonic_time()) / 1000;
        int quiet = vm->tool_status < 0 ? 1000 : DMATD_QUIET_MS;
        ssize_t n;

        if (left <= 0) {
            dmatd_dump_console(vm);
            dmatd_keep_evidence(vm, c);
            g_error("guest did not finish within %u s", dmatd_timeout_s);
        }
        if (poll(&pfd, 1, MIN(left, quiet)) <= 0) {
            if (dmatd_powered_off(vm, c)) {
                return;
            }
            continue;
        }
        n = read(vm->console_fd, buf, sizeof(buf));
        if (n <= 0) {
            dmatd_dump_console(vm);
            dmatd_keep_evidence(vm, c);
            g_error("guest console closed before the guest powered off");
        }
        dmatd_feed(vm, buf, n);
    }
}

/*
 * The guest's console, before QEMU starts: its far end here, and the
 * -chardev that QEMU opens (id ser0).  Returns the socket to accept() on,
 * or -1 for a pipe.
 *
 * QEMU's 16550 gives the chardev a byte per write().  When the chardev
 * takes no more, the UART keeps 16 bytes in its FIFO, and the kernel's
 * console waits for room for only about 16 character times before it
 * writes anyway: the UART then drops the FIFO's oldest byte, which may be
 * user space's.  A unix socket is full after about 280 one-byte writes
 * (each is an skb of its own, counted at its true size against the send
 * buffer): a reader busy elsewhere for as long as the guest takes to
 * print 280 bytes lost console bytes.  A pipe merges small writes into its
 * pages; at DMATD_CONSOLE_PIPE it holds all a case prints, and the guest
 * never waits for this reader.  The socket stays for the negative control
 * (negative/console-socket).
 */
char *dmatd_console_open(DmatdVm *vm, const char *dir, int *listen_fd)
{
    g_autofree char *base = g_build_filename(dir, "console", NULL);
    g_autofree char *in = g_strconcat(base, ".in", NULL);
    g_autofree char *out = g_strconcat(base, ".out", NULL);

    if (vm->gcase->console_socket) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_autofree char *path = g_strconcat(base, ".sock", NULL);

        g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
        strcpy(sa.sun_path, path);
        *listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        g_assert_cmpint(*listen_fd, >=, 0);
        g_assert_cmpint(bind(*listen_fd, (struct sockaddr *)&sa,
                             sizeof(sa)), ==, 0);
        g_assert_cmpint(listen(*listen_fd, 1), ==, 0);
        return g_strdup_printf("socket,id=ser0,path=%s", path);
    }

    *listen_fd = -1;
    g_assert_cmpint(mkfifo(in, 0600), ==, 0);
    g_assert_cmpint(mkfifo(out, 0600), ==, 0);
    /*
     * Neither open waits for QEMU: O_NONBLOCK for the end we read (then
     * reads block again), O_RDWR for the one we write.  QEMU opens both
     * O_RDWR; it is then the only writer of console.out, so its exit is
     * an end of file here.
     */
    vm->console_fd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    g_assert_cmpint(vm->console_fd, >=, 0);
    g_assert_cmpint(fcntl(vm->console_fd, F_SETFL, 0), ==, 0);
    vm->input_fd = open(in, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(vm->input_fd, >=, 0);
    if (fcntl(vm->console_fd, F_SETPIPE_SZ, DMATD_CONSOLE_PIPE) < 0) {
        int err = errno;

        dmatd_msg("console: the pipe stays %d bytes, not %d: %s (raise "
                  "/proc/sys/fs/pipe-max-size)",
                  fcntl(vm->console_fd, F_GETPIPE_SZ), (int)DMATD_CONSOLE_PIPE,
                  g_strerror(err));
    }
    return g_strdup_printf("pipe,id=ser0,path=%s", base);
}

/* Once QEMU runs: its socket connection, and the names go. */
void dmatd_console_connect(DmatdVm *vm, const char *dir, int listen_fd)
{
    static const char *const names[] = {
        "console.in", "console.out", "console.sock",
    };
    size_t i;

    if (listen_fd >= 0) {
        vm->console_fd = accept(listen_fd, NULL, NULL);
        g_assert_cmpint(vm->console_fd, >=, 0);
        vm->input_fd = vm->console_fd;
        close(listen_fd);
    }
    for (i = 0; i < ARRAY_SIZE(names); i++) {
        g_autofree char *path = g_build_filename(dir, names[i], NULL);

        unlink(path);
    }
}

/* A line of the console burst: count it. */
static void dmatd_burst_seen(GHashTable *seen, const char *line)
{
    g_autofree char *l = g_strchomp(g_strdup(line));
    guint n;

    if (g_str_has_prefix(l, "dt-console ")) {
        n = GPOINTER_TO_UINT(g_hash_table_lookup(seen, l));
        g_hash_table_insert(seen, g_steal_pointer(&l),
                            GUINT_TO_POINTER(n + 1));
    }
}

/*
 * The console burst: each of its user lines and kernel records must have
 * arrived exactly once, whole.  One finding says how many did not.
 */
unsigned dmatd_check_console_burst(DmatdVm *vm)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
                                                       g_str_equal,
                                                       g_free, NULL);
    g_auto(GStrv) out = g_strsplit(vm->output->str, "\n", -1);
    g_auto(GStrv) kmsg = g_strsplit(vm->kmsg->str, "\n", -1);
    g_autofree char *first = NULL;
    unsigned bad = 0, i;
    char **l;

    for (l = out; *l; l++) {
        dmatd_burst_seen(seen, *l);
    }
    for (l = kmsg; *l; l++) {
        const char *text = strstr(*l, "] ");

        if (text) {
            dmatd_burst_seen(seen, text + 2);
        }
    }
    for (i = 0; i < 2 * DMATD_BURST_LINES; i++) {
        g_autofree char *want = g_strdup_printf("dt-console %c%u %s",
                                                i % 2 ? 'k' : 'u', i / 2,
                                                DMATD_BURST_FILL);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(seen, want));

        if (n != 1) {
            bad++;
            if (!first) {
                first = g_strdup_printf("'%s' %u times", want, n);
            }
        }
    }
    if (bad) {
        dmatd_error(vm, "console: %u of %u lines of the burst did not arrive "
                    "whole, once (first: %s)", bad, 2 * DMATD_BURST_LINES,
                    first);
    }
    return bad;
}
