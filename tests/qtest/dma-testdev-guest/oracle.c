/*
 * dma-testdev guest-level qtest: the oracle of the pin path.  It finds
 * the buffer's pages in guest RAM by their tags, and checks against them
 * the runs the ioctl returned, every word the device wrote and every
 * address in the device's DMA log; and what the guest kernel reported.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "guest.h"

/*
 * Guest physical memory, as the test sees it
 */

static uint8_t *dmatd_gpa_ptr(DmatdVm *vm, uint64_t gpa, uint64_t len)
{
    uint64_t ram_off;

    if (gpa < vm->below_4g) {
        ram_off = gpa;
    } else if (gpa >= 4 * GiB) {
        ram_off = gpa - 4 * GiB + vm->below_4g;
    } else {
        return NULL;
    }
    if (ram_off / vm->node_size != (ram_off + len - 1) / vm->node_size ||
        ram_off + len > DMATD_NODES * vm->node_size) {
        return NULL;
    }
    return vm->ram[ram_off / vm->node_size] + ram_off % vm->node_size;
}

static uint64_t dmatd_ram_off_to_gpa(DmatdVm *vm, uint64_t ram_off)
{
    return ram_off < vm->below_4g ? ram_off
                                  : ram_off - vm->below_4g + 4 * GiB;
}

/* [start, end) of a node's RAM, offsets into its backing file. */
typedef struct DmatdExtent {
    uint64_t start;
    uint64_t end;
} DmatdExtent;

/*
 * The parts of @node's RAM the guest ever wrote, from the backing file's
 * SEEK_DATA/SEEK_HOLE.  A page never written is a hole in the tmpfs file
 * and reads as zeros: no tag and no pattern word can be there.  Reading
 * it through the mapping would allocate it, which for a 4 GiB case on
 * 10 GiB of RAM cost 20 s and 10 GiB.  Where the file system cannot say,
 * the whole node is one extent.
 */
static GArray *dmatd_ram_extents(DmatdVm *vm, int node)
{
    GArray *ext = g_array_new(false, false, sizeof(DmatdExtent));
    off_t pos = 0;

    while (pos < vm->node_size) {
        DmatdExtent x;
        off_t data = lseek(vm->ram_fd[node], pos, SEEK_DATA), hole;

        if (data < 0 && errno == ENXIO) {
            break;                      /* only holes from @pos on */
        }
        if (data < 0) {
            g_array_set_size(ext, 0);
            x = (DmatdExtent) { 0, vm->node_size };
            g_array_append_val(ext, x);
            break;
        }
        hole = lseek(vm->ram_fd[node], data, SEEK_HOLE);
        /* Pages, as tmpfs gives them: no page is scanned twice. */
        x = (DmatdExtent) {
            QEMU_ALIGN_DOWN(data, DMATD_PAGE),
            hole <= data ? vm->node_size :
            MIN(QEMU_ALIGN_UP(hole, DMATD_PAGE), vm->node_size)
        };
        g_array_append_val(ext, x);
        pos = x.end;
    }
    return ext;
}

/* The page at @off of @node: a tag of @b's buffer, or not. */
static void dmatd_scan_tag_at(DmatdVm *vm, DmatdBuf *b, uint64_t nonce,
                              uint64_t node, uint64_t off)
{
    const uint8_t *p = vm->ram[node] + off;
    uint64_t idx, gpa;

    if (ldq_le_p(p) != nonce) {
        return;
    }
    idx = ldq_le_p(p + 8);
    gpa = dmatd_ram_off_to_gpa(vm, node * vm->node_size + off);
    if (ldq_le_p(p + 16) != dmatd_page_tag_check(nonce, idx)) {
        b->lone_nonces++;
        dmatd_msg("%s: the nonce at 0x%" PRIx64 " is no page tag (no check "
                  "word): ignored", b->name, gpa);
        return;
    }
    if (idx >= b->npages) {
        dmatd_error(vm, "%s: tag at 0x%" PRIx64 " names page %" PRIu64
                    " of a %" PRIu64 "-page buffer", b->name, gpa, idx,
                    b->npages);
    } else if (b->page_gpa[idx] != DMATD_NONE) {
        dmatd_error(vm, "%s: page %" PRIu64 " found twice, at 0x%" PRIx64
                    " and 0x%" PRIx64, b->name, idx, b->page_gpa[idx], gpa);
    } else {
        b->page_gpa[idx] = gpa;
    }
}

/*
 * Locate every page of the buffer by its tag (DMATD_PAGE_TAG_SIZE).  Runs
 * with the VM stopped, so nothing moves while it looks.  The nonce alone
 * is no tag: the tool printed it, and copies of it sit in stacks and
 * buffers, one of them now and then at a page start.
 */
void dmatd_scan_tags(DmatdVm *vm, DmatdBuf *b, uint64_t nonce)
{
    uint64_t i, node, off;

    for (i = 0; i < b->npages; i++) {
        b->page_gpa[i] = DMATD_NONE;
    }
    for (node = 0; node < DMATD_NODES; node++) {
        g_autoptr(GArray) ext = dmatd_ram_extents(vm, node);

        for (i = 0; i < ext->len; i++) {
            const DmatdExtent *e = &g_array_index(ext, DmatdExtent, i);

            for (off = e->start; off < e->end; off += DMATD_PAGE) {
                dmatd_scan_tag_at(vm, b, nonce, node, off);
            }
        }
    }
    for (i = 0; i < b->npages; i++) {
        if (b->page_gpa[i] == DMATD_NONE) {
            dmatd_error(vm, "%s: page %" PRIu64 " not found in guest RAM",
                        b->name, i);
        }
        if (b->first_gpa[i] == DMATD_NONE) {
            b->first_gpa[i] = b->page_gpa[i];
        }
    }
}

/* Where byte @b of the buffer really is, by the nonce map. */
static uint64_t dmatd_buf_gpa(DmatdBuf *b, uint64_t byte)
{
    uint64_t pos = b->offset + byte;
    uint64_t page = b->page_gpa[pos / DMATD_PAGE];

    return page == DMATD_NONE ? DMATD_NONE : page + pos % DMATD_PAGE;
}

/*
 * The runs GET_PA returned must cover the buffer exactly, in IOVA order,
 * and each must be physically contiguous: every page inside a run must be
 * where the run says.  A PA one page off, or a run merged across a
 * discontinuity, fails here naming the page.
 */
void dmatd_check_runs(DmatdVm *vm, DmatdBuf *b)
{
    uint64_t byte = 0, i;

    for (i = 0; i < b->runs->len; i++) {
        DmatdRun *r = &g_array_index(b->runs, DmatdRun, i);
        uint64_t end = byte + r->len, pos;

        if (r->iova != g_array_index(b->runs, DmatdRun, 0).iova + byte) {
            dmatd_error(vm, "%s: run %" PRIu64 " starts at IOVA 0x%" PRIx64
                        ", expected 0x%" PRIx64, b->name, i, r->iova,
                        g_array_index(b->runs, DmatdRun, 0).iova + byte);
        }
        if (end > b->len) {
            dmatd_error(vm, "%s: run %" PRIu64 " ends at buffer byte 0x%"
                        PRIx64 ", past its length 0x%" PRIx64, b->name, i, end,
                        b->len);
            return;
        }
        /* One check per page the run touches. */
        for (pos = byte; pos < end;
             pos = QEMU_ALIGN_DOWN(b->offset + pos, DMATD_PAGE) + DMATD_PAGE -
                   b->offset) {
            uint64_t real = dmatd_buf_gpa(b, pos);
            uint64_t said = r->pa + (pos - byte);

            if (real != said) {
                dmatd_error(vm, "%s: page %" PRIu64 " (buffer byte 0x%" PRIx64
                            "): run %" PRIu64 " says PA 0x%" PRIx64
                         ", the page is at 0x%" PRIx64, b->name,
                         (b->offset + pos) / DMATD_PAGE, pos, i, said, real);
            }
        }
        byte = end;
    }
    if (byte != b->len) {
        dmatd_error(vm, "%s: runs cover 0x%" PRIx64 " bytes of 0x%" PRIx64,
                    b->name, byte, b->len);
    }
}

static bool dmatd_in_runs(DmatdBuf *b, uint64_t addr, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < b->runs->len; i++) {
        DmatdRun *r = &g_array_index(b->runs, DmatdRun, i);

        if (addr >= r->pa && addr + len <= r->pa + r->len) {
            return true;
        }
    }
    return false;
}

/* Which page of the buffer, by the current nonce map, holds @gpa? */
static uint64_t dmatd_page_at(DmatdBuf *b, uint64_t gpa)
{
    uint64_t i;

    for (i = 0; i < b->npages; i++) {
        if (b->page_gpa[i] != DMATD_NONE && gpa >= b->page_gpa[i] &&
            gpa < b->page_gpa[i] + DMATD_PAGE) {
            return i;
        }
    }
    return DMATD_NONE;
}

uint64_t dmatd_get_u64(QDict *d, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(d, key));

    g_assert_nonnull(n);
    return qnum_get_uint(n);
}

/*
 * Where the device wrote since the buffer began, by its DMA log.  If the
 * log no longer holds the first of those entries, writes_complete stays
 * false and every address counts as written.
 */
static void dmatd_collect_writes(DmatdBuf *b, QList *log)
{
    QListEntry *e;
    bool first = true;

    g_array_set_size(b->writes, 0);
    b->writes_complete = true;
    QLIST_FOREACH_ENTRY(log, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));
        DmatdRun w = {
            .pa = dmatd_get_u64(d, "addr"),
            .len = dmatd_get_u64(d, "len"),
        };

        if (first && dmatd_get_u64(d, "seq") != b->log_seq + 1) {
            b->writes_complete = false;
        }
        first = false;
        if (!strcmp(qdict_get_str(d, "dir"), "write")) {
            g_array_append_val(b->writes, w);
        }
    }
}

static bool dmatd_device_wrote(DmatdBuf *b, uint64_t gpa)
{
    guint i;

    if (!b->writes_complete) {
        return true;
    }
    for (i = 0; i < b->writes->len; i++) {
        DmatdRun *w = &g_array_index(b->writes, DmatdRun, i);

        if (gpa >= w->pa && gpa + 8 <= w->pa + w->len) {
            return true;
        }
    }
    return false;
}

/*
 * The word at @off of @node, if it has the seed's shape: where it belongs
 * and whether it is there.  Returns true for a word in its place.
 */
static bool dmatd_check_word_at(DmatdVm *vm, DmatdBuf *b, uint64_t node,
                                uint64_t off)
{
    uint64_t w = ldq_le_p(vm->ram[node] + off), t, gpa, exp;

    if ((uint32_t)(w >> 32) != b->seed) {
        return false;
    }
    t = (uint64_t)(uint32_t)w * 8;
    gpa = dmatd_ram_off_to_gpa(vm, node * vm->node_size + off);
    if ((t + 8 > b->len || gpa != dmatd_buf_gpa(b, t)) &&
        !dmatd_device_wrote(b, gpa)) {
        b->chance_words++;
        return false;
    }
    if (t + 8 > b->len) {
        dmatd_error(vm, "%s: word 0x%016" PRIx64 " at 0x%" PRIx64 " is past "
                    "the transfer (offset 0x%" PRIx64 ")", b->name, w, gpa, t);
        return false;
    }
    exp = dmatd_buf_gpa(b, t);
    if (gpa != exp) {
        dmatd_error(vm, "%s: word for transfer offset 0x%" PRIx64 " (page %"
                    PRIu64 ") found at 0x%" PRIx64 ", expected at 0x%" PRIx64,
                    b->name, t, (b->offset + t) / DMATD_PAGE, gpa, exp);
        return false;
    }
    return true;
}

/*
 * Every word of the pattern must be on the page, and at the offset, it
 * belongs to; none the device wrote may be anywhere else in guest RAM.
 * Words split across two pages are the guest tool's to check.
 *
 * A word of the seed's shape that lies outside every write the device
 * logged is not a DMA finding: about one word in 2^32 of what RAM holds
 * (code, compressed data) has the seed in its upper half by chance (one
 * in the BIOS did, in a mutation run), and the CPU may have copied one.
 * Such words are counted and reported, not flagged.
 */
void dmatd_check_pattern(DmatdVm *vm, DmatdBuf *b, QList *log)
{
    uint64_t phase = b->offset % 8, node, off, nwords = 0, found = 0, t;
    guint i;

    dmatd_collect_writes(b, log);
    for (node = 0; node < DMATD_NODES; node++) {
        g_autoptr(GArray) ext = dmatd_ram_extents(vm, node);

        for (i = 0; i < ext->len; i++) {
            const DmatdExtent *e = &g_array_index(ext, DmatdExtent, i);
            /* From the first word at @phase that reaches into the extent. */
            uint64_t lo = e->start > 7 ? e->start - 7 : 0;

            for (off = lo + (phase + 8 - lo % 8) % 8;
                 off < e->end && off + 8 <= vm->node_size; off += 8) {
                found += dmatd_check_word_at(vm, b, node, off);
            }
        }
    }
    /* Then every word that should be there, by its expected address. */
    for (t = 0; t + 8 <= b->len; t += 8) {
        uint64_t gpa = dmatd_buf_gpa(b, t);
        const uint8_t *p;

        if ((b->offset + t) / DMATD_PAGE != (b->offset + t + 7) / DMATD_PAGE) {
            continue;
        }
        nwords++;
        p = gpa == DMATD_NONE ? NULL : dmatd_gpa_ptr(vm, gpa, 8);
        if (!p || ldq_le_p(p) != dmatd_pattern_word(b->seed, t)) {
            dmatd_error(vm, "%s: transfer offset 0x%" PRIx64 " (page %" PRIu64
                        ") at 0x%" PRIx64 ": expected 0x%016" PRIx64
                     " found 0x%016" PRIx64, b->name, t,
                     (b->offset + t) / DMATD_PAGE, gpa,
                     dmatd_pattern_word(b->seed, t), p ? ldq_le_p(p) : 0);
        }
    }
    dmatd_msg("%s: %" PRIu64 " of %" PRIu64 " pattern words in place",
              b->name, found, nwords);
    if (b->chance_words) {
        dmatd_msg("%s: %" PRIu64 " words of the seed's shape outside every "
                  "write the device logged (chance, or CPU copies): ignored",
                  b->name, b->chance_words);
    }
}

/* The device's DMA log from sequence number @from on. */
QList *dmatd_dma_log(DmatdVm *vm, uint64_t from)
{
    QList *log = dmatd_log_read(vm->qts, "dt0", from);
    QListEntry *e;

    /* Kept for the evidence of a failed case. */
    QLIST_FOREACH_ENTRY(log, e) {
        g_autoptr(GString) json = qobject_to_json(qlist_entry_obj(e));

        g_string_append_printf(vm->dma_log, "%s\n", json->str);
    }
    return log;
}

/* The segment list the tool said command @seq used; NULL if none. */
static const DmatdCmd *dmatd_find_cmd(DmatdBuf *b, uint64_t seq)
{
    guint i;

    for (i = 0; i < b->cmds->len; i++) {
        if (g_array_index(b->cmds, DmatdCmd, i).seq == seq) {
            return &g_array_index(b->cmds, DmatdCmd, i);
        }
    }
    return NULL;
}

/*
 * cdev: every entry of the log since the buffer began, of every kind.
 * Data (src, dst, of any op) only inside the runs the ioctl returned;
 * segment-list reads only inside the list the tool reported for that
 * command ("@dt dma ... seq= list= segs="); no queue entries at all (the
 * tool uses the register path).
 */
static void dmatd_check_cdev_entry(DmatdVm *vm, DmatdBuf *b, QDict *d)
{
    const char *list = qdict_get_str(d, "list");
    uint64_t cmd = dmatd_get_u64(d, "cmd");
    uint64_t addr = dmatd_get_u64(d, "addr");
    uint64_t len = dmatd_get_u64(d, "len");
    const DmatdCmd *c;

    if (!strcmp(list, "src") || !strcmp(list, "dst")) {
        if (!dmatd_in_runs(b, addr, len)) {
            dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " %s %s 0x%" PRIx64
                        "+0x%" PRIx64 ", outside every run the ioctl "
                        "returned", b->name, cmd, qdict_get_str(d, "op"),
                        list, addr, len);
        }
    } else if (g_str_has_suffix(list, "-list")) {
        c = dmatd_find_cmd(b, cmd);
        if (!c || addr < c->list_pa ||
            addr + len > c->list_pa + c->list_len) {
            dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " read its %s at "
                        "0x%" PRIx64 "+0x%" PRIx64 ", outside the segment "
                        "list the tool reported (0x%" PRIx64 "+0x%" PRIx64
                        ")", b->name, cmd, list, addr, len,
                        c ? c->list_pa : 0, c ? c->list_len : 0);
        }
    } else {
        dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " %s at 0x%" PRIx64
                    ": a queue access, but the tool used no queue", b->name,
                    cmd, list, addr);
    }
}

/*
 * The device's own record of what it did since the buffer began (@log,
 * read once per check): on the cdev path every entry must lie where the
 * tool was entitled to send the device, and any DMA that read or wrote
 * at an mlocked address must hit a frame that still holds the buffer's
 * page.
 */
void dmatd_check_log(DmatdVm *vm, DmatdBuf *b, QList *log)
{
    QListEntry *e;

    QLIST_FOREACH_ENTRY(log, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));
        const char *list = qdict_get_str(d, "list");
        uint64_t addr = dmatd_get_u64(d, "addr");
        uint64_t len = dmatd_get_u64(d, "len");
        uint64_t first, i;

        if (dmatd_get_u64(d, "seq") <= b->log_seq) {
            continue;
        }
        b->log_checked++;
        if (!b->legacy) {
            dmatd_check_cdev_entry(vm, b, d);
            continue;
        }
        if (g_str_has_suffix(list, "-list")) {
            continue;
        }
        /* Legacy: the addresses came from pagemap; are they still ours? */
        for (i = 0; i < b->npages; i++) {
            first = b->first_gpa[i];
            if (first == DMATD_NONE || addr >= first + DMATD_PAGE ||
                addr + len <= first) {
                continue;
            }
            if (dmatd_page_at(b, first) != i) {
                dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " %s 0x%" PRIx64
                            "+0x%" PRIx64 ": page %" PRIu64 " left 0x%" PRIx64
                         " (now at 0x%" PRIx64 "): the DMA hit memory that "
                         "is no longer the buffer's", b->name,
                         dmatd_get_u64(d, "cmd"), list, addr, len, i, first,
                         b->page_gpa[i]);
            }
        }
    }
}

/*
 * What the guest kernel itself reported: a WARN(), BUG(), oops, panic,
 * refcount or list corruption, lockup, stall or leak on the console fails
 * the case whatever the tools said.
 */
void dmatd_check_kernel(DmatdVm *vm)
{
    /*
     * WARN() in 7.3 prints "WARNING: <file>:<line> at <func>, CPU#<n>:
     * <comm>/<pid>" (older kernels "WARNING: CPU: <n> PID: ..."), after
     * a "cut here" line: a message that starts with "WARNING: " is one.
     */
    static const char *const markers[] = {
        "[ cut here ]", "BUG: ", "Oops: ", "Oops - ", "Kernel panic",
        "general protection fault", "refcount_t: ", "UBSAN: ",
        "new suspected memory leak", "list_add corruption",
        "list_del corruption", "blocked for more than", "detected stall",
        "Bad page",
    };
    g_auto(GStrv) lines = g_strsplit(vm->kmsg->str, "\n", -1);
    guint found = 0, i;
    char **l;

    /* Every record, also one that broke into a line of the tool's. */
    for (l = lines; *l; l++) {
        const char *msg = strstr(*l, "] ");

        if (!msg) {
            continue;
        }
        for (i = 0; i < ARRAY_SIZE(markers); i++) {
            if (strstr(msg, markers[i])) {
                break;
            }
        }
        if (i == ARRAY_SIZE(markers) && !g_str_has_prefix(msg + 2,
                                                          "WARNING: ")) {
            continue;
        }
        if (found++ < 8) {
            dmatd_error(vm, "kernel: %s", g_strchomp(*l));
        }
    }
    if (found > 8) {
        dmatd_error(vm, "kernel: %u such lines in all", found);
    }
}

/*
 * The case exists to put the buffer where a PA needs more than 32 bits:
 * the tag scan must have found every page there, else it proves nothing.
 */
void dmatd_check_above_4g(DmatdVm *vm)
{
    guint i;
    uint64_t p;

    if (!vm->bufs->len) {
        dmatd_error(vm, "above 4 GiB: no buffer was checked");
    }
    for (i = 0; i < vm->bufs->len; i++) {
        DmatdBuf *b = vm->bufs->pdata[i];

        for (p = 0; p < b->npages; p++) {
            if (b->page_gpa[p] == DMATD_NONE || b->page_gpa[p] < 4 * GiB) {
                dmatd_error(vm, "%s: page %" PRIu64 " at 0x%" PRIx64 ", not "
                            "above 4 GiB", b->name, p, b->page_gpa[p]);
            }
        }
        dmatd_msg("%s: all %" PRIu64 " pages above 4 GiB, the first at "
                  "0x%" PRIx64, b->name, b->npages, b->page_gpa[0]);
    }
}
