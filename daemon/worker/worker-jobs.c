/* Block jobs and disk snapshots (docs/worker-protocol.md, "Block jobs and snapshots"). The
 * worker owns every job: it follows QEMU's events, dismisses the job, deletes the nodes the job
 * took out of the chain, and records each job in the `jobs` file, so a job started through one
 * hearthd finishes and is reported whether or not hearthd is there when it ends. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define WK_MAX_JOBS 64
#define WK_MAX_SNAP_DISKS 64

struct wk_job {
    uint64_t serial;
    char *id, *disk, *kind, *state;
    char *error;
    json_t *info;   /* hearthd's own description of the job, returned as it came */
    json_t *remove; /* node numbers to delete once the job has succeeded */
    bool pivot_requested, cancel_requested, pivoted, cleaned;
    json_int_t speed, cur, end;
    bool ready;
    uint64_t waiter; /* a job-abort waiting for the end */
};

static struct wk_job *jobs[WK_MAX_JOBS];
static size_t njobs;
static uint64_t next_serial = 1;

/* ---- the jobs file ---------------------------------------------------------------------- */

static json_t *job_json(const struct wk_job *j)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I}", "job", j->id, "disk",
                          j->disk, "kind", j->kind, "state", j->state, "pivoted", j->pivoted,
                          "ready", j->ready, "speed", j->speed, "cur", j->cur, "end", j->end);

    if (j->error)
        json_object_set_new(o, "error", json_string(j->error));
    if (j->info)
        json_object_set(o, "info", j->info);
    return o;
}

static bool job_final(const struct wk_job *j)
{
    return strcmp(j->state, "running") != 0 && strcmp(j->state, "ready") != 0;
}

static void jobs_write(struct worker *w)
{
    _cleanup_json_ json_t *arr = json_array();
    _cleanup_json_ json_t *doc = NULL;
    _cleanup_free_ char *text = NULL;
    _cleanup_close_ int fd = -1;

    for (size_t i = 0; i < njobs; i++) {
        json_t *o = job_json(jobs[i]);

        json_object_set_new(o, "pivot_requested", json_boolean(jobs[i]->pivot_requested));
        json_object_set_new(o, "cancel_requested", json_boolean(jobs[i]->cancel_requested));
        json_object_set_new(o, "cleaned", json_boolean(jobs[i]->cleaned));
        if (jobs[i]->remove)
            json_object_set(o, "remove", jobs[i]->remove);
        json_array_append_new(arr, o);
    }
    doc = json_pack("{s:i, s:O}", "version", 1, "jobs", arr);
    text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        abort();
    fd = openat(w->dir_fd, "jobs.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || wk_write_all(fd, text, strlen(text)) < 0 || wk_write_all(fd, "\n", 1) < 0 ||
        fsync(fd) < 0 || renameat(w->dir_fd, "jobs.tmp", w->dir_fd, "jobs") < 0 ||
        fsync(w->dir_fd) < 0)
        wk_note(w, "cannot write '%s/jobs': %s", w->dir, strerror(errno));
}

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

static struct wk_job *job_new(const char *id, const char *disk, const char *kind)
{
    struct wk_job *j = wk_xmalloc(sizeof(*j));

    memset(j, 0, sizeof(*j));
    j->serial = next_serial++;
    j->id = wk_xstrdup(id);
    j->disk = wk_xstrdup(disk);
    j->kind = wk_xstrdup(kind);
    j->state = wk_xstrdup("running");
    return j;
}

static void job_free(struct wk_job *j)
{
    free(j->id);
    free(j->disk);
    free(j->kind);
    free(j->state);
    free(j->error);
    json_decref(j->info);
    json_decref(j->remove);
    free(j);
}

static void job_set_state(struct wk_job *j, const char *state)
{
    free(j->state);
    j->state = wk_xstrdup(state);
}

static void job_remove(struct wk_job *j)
{
    for (size_t i = 0; i < njobs; i++) {
        if (jobs[i] != j)
            continue;
        memmove(&jobs[i], &jobs[i + 1], (njobs - i - 1) * sizeof(jobs[0]));
        njobs--;
        job_free(j);
        return;
    }
}

static struct wk_job *job_by_id(const char *id)
{
    for (size_t i = 0; id && i < njobs; i++)
        if (strcmp(jobs[i]->id, id) == 0)
            return jobs[i];
    return NULL;
}

static struct wk_job *job_by_serial(uint64_t serial)
{
    for (size_t i = 0; i < njobs; i++)
        if (jobs[i]->serial == serial)
            return jobs[i];
    return NULL;
}

void wk_jobs_load(struct worker *w)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_json_ json_t *doc = NULL;
    char err[WK_ERRLEN];
    json_t *o;
    size_t len, i;

    if (wk_read_file("jobs", 1024 * 1024, &text, &len, err) < 0)
        return; /* no jobs were ever started */
    doc = json_loadb(text, len, 0, NULL);
    json_array_foreach(json_object_get(doc, "jobs"), i, o)
    {
        struct wk_job *j;

        if (njobs >= WK_MAX_JOBS || !json_is_string(json_object_get(o, "job")))
            continue;
        j = job_new(str_or(o, "job", ""), str_or(o, "disk", ""), str_or(o, "kind", ""));
        job_set_state(j, str_or(o, "state", "running"));
        if (json_object_get(o, "error"))
            j->error = wk_xstrdup(str_or(o, "error", ""));
        j->info = json_incref(json_object_get(o, "info"));
        j->remove = json_incref(json_object_get(o, "remove"));
        j->pivoted = json_is_true(json_object_get(o, "pivoted"));
        j->ready = json_is_true(json_object_get(o, "ready"));
        j->pivot_requested = json_is_true(json_object_get(o, "pivot_requested"));
        j->cancel_requested = json_is_true(json_object_get(o, "cancel_requested"));
        j->cleaned = json_is_true(json_object_get(o, "cleaned"));
        j->speed = json_integer_value(json_object_get(o, "speed"));
        j->cur = json_integer_value(json_object_get(o, "cur"));
        j->end = json_integer_value(json_object_get(o, "end"));
        jobs[njobs++] = j;
    }
}

/* ---- the end of a job ------------------------------------------------------------------- */

static void broadcast(struct worker *w, const struct wk_job *j)
{
    _cleanup_json_ json_t *ev = job_json(j);

    json_object_set_new(ev, "event", json_string("job"));
    wk_control_broadcast(w, ev);
}

static void ignore_reply(struct worker *w, uint64_t token, json_t *reply)
{
}

static void cleanup_done(struct worker *w, uint64_t serial, json_t *reply)
{
    struct wk_job *j = job_by_serial(serial);
    _cleanup_json_ json_t *result = NULL;

    if (!j)
        return;
    j->cleaned = true;
    jobs_write(w);
    if (j->waiter) {
        uint64_t seq = j->waiter;

        j->waiter = 0;
        result = json_pack("{s:s, s:b}", "state", j->state, "pivoted", j->pivoted);
        wk_control_reply(w, seq, json_incref(result));
    }
}

/* Dismiss, then delete the nodes the job took out of the chain (format node before storage
 * node, as QEMU requires). Replies come in order, so the last one marks the end. */
static void job_cleanup(struct worker *w, struct wk_job *j)
{
    bool remove =
        strcmp(j->state, "completed") == 0 && (strcmp(j->kind, "active-commit") != 0 || j->pivoted);
    json_t *n;
    size_t i;

    wk_qmp_send(w, "job-dismiss", json_pack("{s:s}", "id", j->id), ignore_reply, 0);
    json_array_foreach(remove ? j->remove : NULL, i, n)
    {
        char name[64];

        snprintf(name, sizeof(name), "libvirt-%lld-format", (long long)json_integer_value(n));
        wk_qmp_send(w, "blockdev-del", json_pack("{s:s}", "node-name", name), ignore_reply, 0);
        snprintf(name, sizeof(name), "libvirt-%lld-storage", (long long)json_integer_value(n));
        wk_qmp_send(w, "blockdev-del", json_pack("{s:s}", "node-name", name), ignore_reply, 0);
    }
    /* A harmless query that answers after everything above. */
    wk_qmp_send(w, "query-jobs", NULL, cleanup_done, j->serial);
}

static void job_finish(struct worker *w, struct wk_job *j, const char *state, const char *error)
{
    if (job_final(j))
        return;
    job_set_state(j, state);
    if (error && !j->error)
        j->error = wk_xstrdup(error);
    if (strcmp(state, "completed") == 0 && strcmp(j->kind, "active-commit") == 0)
        j->pivoted = j->pivot_requested;
    if (strcmp(state, "completed") == 0 && j->end > 0)
        j->cur = j->end;
    jobs_write(w);
    /* Tell hearthd first: its waiting clients return as soon as QEMU is done. */
    broadcast(w, j);
    job_cleanup(w, j);
}

/* ---- disk snapshots ------------------------------------------------------------------- */

enum snap_phase { SNAP_IDLE, SNAP_QUERY, SNAP_STORAGE, SNAP_CREATE, SNAP_FORMAT, SNAP_TRANSACTION };

struct snap_disk {
    char *target, *file, *backing_file, *backing_fmt;
    long long node, overlay;
    bool create;
    json_int_t size, cluster;
    bool created_file, storage_added, format_added;
};

static struct {
    enum snap_phase phase;
    uint64_t seq;
    size_t n, cur;
    struct snap_disk d[WK_MAX_SNAP_DISKS];
    bool create_replied, create_concluded;
    char create_id[64];
    char error[WK_ERRLEN];
    size_t rollback_left;
} snap;

static void snap_step(struct worker *w);
static void snap_fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void node_name(char *out, size_t len, long long n, const char *kind)
{
    snprintf(out, len, "libvirt-%lld-%s", n, kind);
}

static void snap_reset(void)
{
    for (size_t i = 0; i < snap.n; i++) {
        free(snap.d[i].target);
        free(snap.d[i].file);
        free(snap.d[i].backing_file);
        free(snap.d[i].backing_fmt);
    }
    memset(&snap, 0, sizeof(snap));
}

static void snap_rollback_done(struct worker *w, uint64_t token, json_t *reply)
{
    uint64_t seq = snap.seq;

    if (--snap.rollback_left > 0)
        return;
    for (size_t i = 0; i < snap.n; i++)
        if (snap.d[i].created_file && unlink(snap.d[i].file) < 0 && errno != ENOENT)
            wk_note(w, "cannot remove '%s': %s", snap.d[i].file, strerror(errno));
    wk_control_fail(w, seq, WK_ERR_OPERATION_FAILED, "%s", snap.error);
    snap_reset();
}

/* Undo everything this attempt created, newest first, then answer with the error. */
static void snap_fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(snap.error, sizeof(snap.error), fmt, ap);
    va_end(ap);
    snap.phase = SNAP_IDLE;
    snap.rollback_left = 1;
    for (size_t i = snap.n; i-- > 0;) {
        char name[64];

        if (snap.d[i].format_added) {
            node_name(name, sizeof(name), snap.d[i].overlay, "format");
            wk_qmp_send(w, "blockdev-del", json_pack("{s:s}", "node-name", name), ignore_reply, 0);
        }
        if (snap.d[i].storage_added) {
            node_name(name, sizeof(name), snap.d[i].overlay, "storage");
            wk_qmp_send(w, "blockdev-del", json_pack("{s:s}", "node-name", name), ignore_reply, 0);
        }
    }
    wk_qmp_send(w, "query-jobs", NULL, snap_rollback_done, 0);
}

static void snap_query_done(struct worker *w, uint64_t token, json_t *reply)
{
    json_t *list = json_object_get(reply, "return"), *node;
    size_t i;

    if (!json_is_array(list)) {
        snap_fail(w, "cannot read the disk graph: %s", wk_qmp_error(reply));
        return;
    }
    json_array_foreach(list, i, node)
    {
        const char *name = json_string_value(json_object_get(node, "node-name"));
        json_t *image = json_object_get(node, "image");

        for (size_t k = 0; name && k < snap.n; k++) {
            char want[64];

            node_name(want, sizeof(want), snap.d[k].node, "format");
            if (strcmp(name, want) != 0)
                continue;
            snap.d[k].size = json_integer_value(json_object_get(image, "virtual-size"));
            snap.d[k].cluster = json_integer_value(json_object_get(image, "cluster-size"));
        }
    }
    for (size_t k = 0; k < snap.n; k++) {
        if (snap.d[k].size <= 0) {
            snap_fail(w, "disk '%s' has no node libvirt-%lld-format", snap.d[k].target,
                      snap.d[k].node);
            return;
        }
    }
    snap.cur = 0;
    snap.phase = SNAP_STORAGE;
    snap_step(w);
}

static void snap_storage_done(struct worker *w, uint64_t token, json_t *reply)
{
    struct snap_disk *d = &snap.d[snap.cur];

    if (wk_qmp_error(reply)) {
        snap_fail(w, "cannot open '%s' for disk '%s': %s", d->file, d->target, wk_qmp_error(reply));
        return;
    }
    d->storage_added = true;
    snap.phase = d->create ? SNAP_CREATE : SNAP_FORMAT;
    snap_step(w);
}

static void snap_create_checked(struct worker *w, uint64_t token, json_t *reply)
{
    const char *qerr = wk_qmp_error(reply);

    /* token 1: query-jobs answered (reply carries the job's error, if any); then dismissed. */
    if (token == 1) {
        json_t *list = json_object_get(reply, "return"), *job;
        size_t i;

        json_array_foreach(list, i, job)
        {
            if (strcmp(str_or(job, "id", ""), snap.create_id) == 0 && json_object_get(job, "error"))
                snprintf(snap.error, sizeof(snap.error), "%s", str_or(job, "error", ""));
        }
        wk_qmp_send(w, "job-dismiss", json_pack("{s:s}", "id", snap.create_id), snap_create_checked,
                    2);
        return;
    }
    if (snap.error[0] || qerr) {
        struct snap_disk *d = &snap.d[snap.cur];
        char why[WK_ERRLEN];

        snprintf(why, sizeof(why), "%s", snap.error[0] ? snap.error : qerr);
        snap_fail(w, "cannot create overlay '%s' for disk '%s': %s", d->file, d->target, why);
        return;
    }
    snap.phase = SNAP_FORMAT;
    snap_step(w);
}

static void snap_create_check(struct worker *w)
{
    if (!snap.create_replied || !snap.create_concluded)
        return;
    snap.create_replied = snap.create_concluded = false;
    wk_qmp_send(w, "query-jobs", NULL, snap_create_checked, 1);
}

static void snap_create_done(struct worker *w, uint64_t token, json_t *reply)
{
    struct snap_disk *d = &snap.d[snap.cur];

    if (wk_qmp_error(reply)) {
        snap_fail(w, "cannot create overlay '%s' for disk '%s': %s", d->file, d->target,
                  wk_qmp_error(reply));
        return;
    }
    snap.create_replied = true;
    snap_create_check(w);
}

static void snap_format_done(struct worker *w, uint64_t token, json_t *reply)
{
    struct snap_disk *d = &snap.d[snap.cur];

    if (wk_qmp_error(reply)) {
        snap_fail(w, "cannot open overlay '%s' for disk '%s': %s", d->file, d->target,
                  wk_qmp_error(reply));
        return;
    }
    d->format_added = true;
    snap.cur++;
    snap.phase = snap.cur < snap.n ? SNAP_STORAGE : SNAP_TRANSACTION;
    snap_step(w);
}

static void snap_transaction_done(struct worker *w, uint64_t token, json_t *reply)
{
    uint64_t seq = snap.seq;

    if (wk_qmp_error(reply)) {
        snap_fail(w, "%s", wk_qmp_error(reply));
        return;
    }
    snap_reset();
    wk_control_reply(w, seq, json_object());
}

/* The file a storage node opens must exist; it is created here, empty, mode 0600, owned by
 * the user QEMU runs as. */
static int snap_create_file(struct worker *w, struct snap_disk *d)
{
    char proc[64];
    struct stat st;
    _cleanup_close_ int fd = open(d->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        if (errno == EEXIST)
            snap_fail(w, "external snapshot file for disk %s already exists: %s", d->target,
                      d->file);
        else
            snap_fail(w, "failed to create image file '%s': %s", d->file, strerror(errno));
        return -1;
    }
    d->created_file = true;
    snprintf(proc, sizeof(proc), "/proc/%d", (int)w->qemu_pid);
    if (stat(proc, &st) == 0 && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
        fchown(fd, st.st_uid, st.st_gid) < 0) {
        snap_fail(w, "cannot hand '%s' to QEMU's user: %s", d->file, strerror(errno));
        return -1;
    }
    return 0;
}

static void snap_step(struct worker *w)
{
    struct snap_disk *d = snap.cur < snap.n ? &snap.d[snap.cur] : NULL;
    char storage[64], format[64];
    json_t *actions;

    switch (snap.phase) {
    case SNAP_IDLE:
        break;
    case SNAP_QUERY:
        wk_qmp_send(w, "query-named-block-nodes", json_pack("{s:b}", "flat", 1), snap_query_done,
                    0);
        break;
    case SNAP_STORAGE:
        if (d->create && snap_create_file(w, d) < 0)
            return;
        node_name(storage, sizeof(storage), d->overlay, "storage");
        wk_qmp_send(w, "blockdev-add",
                    json_pack("{s:s, s:s, s:s, s:b, s:s}", "driver", "file", "filename", d->file,
                              "node-name", storage, "auto-read-only", 1, "discard", "unmap"),
                    snap_storage_done, 0);
        break;
    case SNAP_CREATE:
        node_name(storage, sizeof(storage), d->overlay, "storage");
        snprintf(snap.create_id, sizeof(snap.create_id), "create-libvirt-%lld-format", d->overlay);
        snap.create_replied = snap.create_concluded = false;
        wk_qmp_send(w, "blockdev-create",
                    json_pack("{s:s, s:{s:s, s:s, s:I, s:I, s:s, s:s}}", "job-id", snap.create_id,
                              "options", "driver", "qcow2", "file", storage, "size", d->size,
                              "cluster-size", d->cluster > 0 ? d->cluster : 65536, "backing-file",
                              d->backing_file, "backing-fmt", d->backing_fmt),
                    snap_create_done, 0);
        break;
    case SNAP_FORMAT:
        node_name(storage, sizeof(storage), d->overlay, "storage");
        node_name(format, sizeof(format), d->overlay, "format");
        /* "backing": null, or QEMU reopens the chain it already holds (write lock). */
        wk_qmp_send(w, "blockdev-add",
                    json_pack("{s:s, s:b, s:s, s:s, s:n}", "node-name", format, "read-only", 0,
                              "driver", "qcow2", "file", storage, "backing"),
                    snap_format_done, 0);
        break;
    case SNAP_TRANSACTION:
        actions = json_array();
        for (size_t i = 0; i < snap.n; i++) {
            char top[64];

            node_name(top, sizeof(top), snap.d[i].node, "format");
            node_name(format, sizeof(format), snap.d[i].overlay, "format");
            json_array_append_new(actions,
                                  json_pack("{s:s, s:{s:s, s:s}}", "type", "blockdev-snapshot",
                                            "data", "node", top, "overlay", format));
        }
        wk_qmp_send(w, "transaction", json_pack("{s:o}", "actions", actions), snap_transaction_done,
                    0);
        break;
    }
}

static void cmd_snapshot(struct worker *w, uint64_t seq, json_t *req)
{
    json_t *disks = json_object_get(req, "disks"), *d;
    size_t i;

    if (snap.phase != SNAP_IDLE) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "a snapshot is already being taken");
        return;
    }
    if (!json_is_array(disks) || json_array_size(disks) == 0 ||
        json_array_size(disks) > WK_MAX_SNAP_DISKS) {
        wk_control_fail(w, seq, WK_ERR_INVALID_ARG, "\"disks\" must be an array of 1..%d disks",
                        WK_MAX_SNAP_DISKS);
        return;
    }
    json_array_foreach(disks, i, d)
    {
        const char *target = json_string_value(json_object_get(d, "target"));
        const char *file = json_string_value(json_object_get(d, "file"));
        const char *bfile = json_string_value(json_object_get(d, "backing_file"));
        const char *bfmt = json_string_value(json_object_get(d, "backing_fmt"));
        json_t *node = json_object_get(d, "node"), *overlay = json_object_get(d, "overlay");

        if (!target || !file || file[0] != '/' || !bfile || !bfmt || !json_is_integer(node) ||
            !json_is_integer(overlay)) {
            snap_reset();
            wk_control_fail(w, seq, WK_ERR_INVALID_ARG,
                            "disk %zu needs target, file (absolute), backing_file, backing_fmt, "
                            "node and overlay",
                            i);
            return;
        }
        snap.d[i] = (struct snap_disk){
            .target = wk_xstrdup(target),
            .file = wk_xstrdup(file),
            .backing_file = wk_xstrdup(bfile),
            .backing_fmt = wk_xstrdup(bfmt),
            .node = (long long)json_integer_value(node),
            .overlay = (long long)json_integer_value(overlay),
            .create = !json_is_false(json_object_get(d, "create")),
        };
        snap.n = i + 1;
    }
    snap.seq = seq;
    /* Only a disk whose overlay QEMU is to create needs the sizes of the current images. */
    snap.phase = SNAP_STORAGE;
    for (size_t k = 0; k < snap.n; k++)
        if (snap.d[k].create)
            snap.phase = SNAP_QUERY;
    snap_step(w);
}

/* ---- block job commands --------------------------------------------------------------- */

static struct wk_job *running_job_on(const char *disk)
{
    for (size_t i = 0; i < njobs; i++)
        if (strcmp(jobs[i]->disk, disk) == 0 && !job_final(jobs[i]))
            return jobs[i];
    return NULL;
}

static void job_started(struct worker *w, uint64_t seq_and_serial, json_t *reply);

struct pending_start {
    uint64_t seq, serial;
};
static struct pending_start starts[WK_MAX_JOBS];
static size_t nstarts;

static void job_started(struct worker *w, uint64_t serial, json_t *reply)
{
    struct wk_job *j = job_by_serial(serial);
    uint64_t seq = 0;

    for (size_t i = 0; i < nstarts; i++) {
        if (starts[i].serial != serial)
            continue;
        seq = starts[i].seq;
        starts[i] = starts[--nstarts];
        break;
    }
    if (wk_qmp_error(reply)) {
        if (j)
            job_remove(j);
        wk_control_fail(w, seq, WK_ERR_OPERATION_FAILED, "%s", wk_qmp_error(reply));
        return;
    }
    if (j && !job_final(j))
        jobs_write(w);
    wk_control_reply(w, seq, json_object());
}

static void cmd_job_start(struct worker *w, uint64_t seq, json_t *req)
{
    const char *id = json_string_value(json_object_get(req, "job"));
    const char *disk = json_string_value(json_object_get(req, "disk"));
    const char *kind = json_string_value(json_object_get(req, "kind"));
    const char *execute = json_string_value(json_object_get(req, "execute"));
    json_t *args = json_object_get(req, "arguments");
    json_t *remove = json_object_get(req, "remove");
    struct wk_job *j;

    if (!id || !disk || !kind || !execute || !json_is_object(args) ||
        (remove && !json_is_array(remove)) ||
        (strcmp(execute, "block-stream") != 0 && strcmp(execute, "block-commit") != 0)) {
        wk_control_fail(w, seq, WK_ERR_INVALID_ARG,
                        "job-start needs job, disk, kind, execute (block-stream or block-commit) "
                        "and arguments");
        return;
    }
    if (w->phase != WK_PHASE_ACTIVE || !w->qemu_alive || w->qmp.fd < 0) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "domain is not running");
        return;
    }
    if ((j = running_job_on(disk))) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "disk '%s' already in active block job",
                        disk);
        return;
    }
    if ((j = job_by_id(id)))
        job_remove(j); /* a finished job hearthd never collected */
    if (njobs >= WK_MAX_JOBS || nstarts >= WK_MAX_JOBS) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_FAILED, "too many block jobs");
        return;
    }
    /* Registered before QEMU hears of it: its events may come before the reply. */
    j = job_new(id, disk, kind);
    j->info = json_incref(json_object_get(req, "info"));
    j->remove = json_incref(remove);
    j->speed = json_integer_value(json_object_get(args, "speed"));
    jobs[njobs++] = j;
    starts[nstarts++] = (struct pending_start){.seq = seq, .serial = j->serial};
    args = json_deep_copy(args);
    json_object_set_new(args, "job-id", json_string(id));
    json_object_set_new(args, "auto-finalize", json_true());
    json_object_set_new(args, "auto-dismiss", json_false());
    wk_qmp_send(w, execute, args, job_started, j->serial);
}

/* job-info: fresh progress from QEMU for the jobs still running. */
static void info_reply(struct worker *w, uint64_t seq, json_t *reply)
{
    json_t *list = json_object_get(reply, "return"), *q;
    _cleanup_json_ json_t *out = json_array();
    size_t i;

    json_array_foreach(list, i, q)
    {
        struct wk_job *j = job_by_id(str_or(q, "device", ""));

        if (!j || job_final(j))
            continue;
        j->cur = json_integer_value(json_object_get(q, "offset"));
        j->end = json_integer_value(json_object_get(q, "len"));
        j->speed = json_integer_value(json_object_get(q, "speed"));
        j->ready = json_is_true(json_object_get(q, "ready"));
    }
    for (size_t k = 0; k < njobs; k++)
        json_array_append_new(out, job_json(jobs[k]));
    wk_control_reply(w, seq, json_incref(out));
}

static void cmd_job_info(struct worker *w, uint64_t seq)
{
    for (size_t i = 0; i < njobs; i++) {
        if (!job_final(jobs[i]) && w->qmp.fd >= 0) {
            wk_qmp_send(w, "query-block-jobs", NULL, info_reply, seq);
            return;
        }
    }
    info_reply(w, seq, NULL);
}

static struct wk_job *job_arg(struct worker *w, uint64_t seq, json_t *req, bool running)
{
    const char *id = json_string_value(json_object_get(req, "job"));
    struct wk_job *j = job_by_id(id);

    if (!id) {
        wk_control_fail(w, seq, WK_ERR_INVALID_ARG, "\"job\" must be a string");
        return NULL;
    }
    if (!j || (running && job_final(j))) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "no active block job '%s'", id);
        return NULL;
    }
    return j;
}

static void speed_done(struct worker *w, uint64_t seq, json_t *reply)
{
    if (wk_qmp_error(reply))
        wk_control_fail(w, seq, WK_ERR_OPERATION_FAILED, "%s", wk_qmp_error(reply));
    else
        wk_control_reply(w, seq, json_object());
}

static void cmd_job_set_speed(struct worker *w, uint64_t seq, json_t *req)
{
    struct wk_job *j = job_arg(w, seq, req, true);
    json_t *speed = json_object_get(req, "speed");

    if (!j)
        return;
    if (!json_is_integer(speed) || json_integer_value(speed) < 0) {
        wk_control_fail(w, seq, WK_ERR_INVALID_ARG, "\"speed\" must be a non-negative integer");
        return;
    }
    j->speed = json_integer_value(speed);
    wk_qmp_send(w, "block-job-set-speed",
                json_pack("{s:s, s:I}", "device", j->id, "speed", json_integer_value(speed)),
                speed_done, seq);
}

/* token: the job's serial; the request waiting is in the job. */
static void abort_sent(struct worker *w, uint64_t serial, json_t *reply)
{
    struct wk_job *j = job_by_serial(serial);
    uint64_t seq;

    if (!j || !j->waiter)
        return;
    seq = j->waiter;
    if (wk_qmp_error(reply)) {
        j->waiter = 0;
        j->pivot_requested = j->cancel_requested = false;
        wk_control_fail(w, seq, WK_ERR_OPERATION_FAILED, "%s", wk_qmp_error(reply));
        return;
    }
    jobs_write(w);
    if (job_final(j) && j->cleaned) {
        j->waiter = 0;
        wk_control_reply(w, seq, json_pack("{s:s, s:b}", "state", j->state, "pivoted", j->pivoted));
    }
}

static void abort_sent_async(struct worker *w, uint64_t seq, json_t *reply)
{
    speed_done(w, seq, reply);
}

static void cmd_job_abort(struct worker *w, uint64_t seq, json_t *req)
{
    struct wk_job *j = job_arg(w, seq, req, true);
    bool pivot = json_is_true(json_object_get(req, "pivot"));
    bool async = json_is_true(json_object_get(req, "async"));

    if (!j)
        return;
    if (j->waiter || j->pivot_requested || j->cancel_requested) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "block job '%s' is already ending",
                        j->id);
        return;
    }
    if (pivot && strcmp(j->state, "ready") != 0) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "block job '%s' not ready for pivot yet",
                        j->id);
        return;
    }
    if (pivot)
        j->pivot_requested = true;
    else
        j->cancel_requested = true;
    if (async) {
        wk_qmp_send(w, pivot ? "job-complete" : "block-job-cancel",
                    json_pack("{s:s}", pivot ? "id" : "device", j->id), abort_sent_async, seq);
        return;
    }
    /* Answered once the job has ended and its nodes are gone (cleanup_done). */
    j->waiter = seq;
    wk_qmp_send(w, pivot ? "job-complete" : "block-job-cancel",
                json_pack("{s:s}", pivot ? "id" : "device", j->id), abort_sent, j->serial);
}

static void cmd_job_forget(struct worker *w, uint64_t seq, json_t *req)
{
    struct wk_job *j = job_arg(w, seq, req, false);

    if (!j)
        return;
    if (!job_final(j)) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "block job '%s' is still running", j->id);
        return;
    }
    job_remove(j);
    jobs_write(w);
    wk_control_reply(w, seq, json_object());
}

bool wk_jobs_command(struct worker *w, uint64_t seq, const char *cmd, json_t *req)
{
    if (strcmp(cmd, "snapshot") == 0 || strcmp(cmd, "job-start") == 0 ||
        strcmp(cmd, "job-set-speed") == 0 || strcmp(cmd, "job-abort") == 0) {
        if (w->phase != WK_PHASE_ACTIVE || !w->qemu_alive || w->qmp.fd < 0) {
            wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "domain is not running");
            return true;
        }
    }
    if (strcmp(cmd, "snapshot") == 0)
        cmd_snapshot(w, seq, req);
    else if (strcmp(cmd, "job-start") == 0)
        cmd_job_start(w, seq, req);
    else if (strcmp(cmd, "job-info") == 0)
        cmd_job_info(w, seq);
    else if (strcmp(cmd, "job-set-speed") == 0)
        cmd_job_set_speed(w, seq, req);
    else if (strcmp(cmd, "job-abort") == 0)
        cmd_job_abort(w, seq, req);
    else if (strcmp(cmd, "job-forget") == 0)
        cmd_job_forget(w, seq, req);
    else
        return false;
    return true;
}

/* ---- QMP events ------------------------------------------------------------------------ */

void wk_jobs_qmp_event(struct worker *w, const char *name, json_t *data)
{
    const char *device = json_string_value(json_object_get(data, "device"));
    struct wk_job *j = job_by_id(device);

    if (strcmp(name, "JOB_STATUS_CHANGE") == 0) {
        const char *id = str_or(data, "id", "");

        if (snap.phase == SNAP_CREATE && strcmp(id, snap.create_id) == 0 &&
            strcmp(str_or(data, "status", ""), "concluded") == 0) {
            snap.create_concluded = true;
            snap_create_check(w);
        }
        return;
    }
    if (!j)
        return;
    if (json_object_get(data, "len")) {
        j->end = json_integer_value(json_object_get(data, "len"));
        j->cur = json_integer_value(json_object_get(data, "offset"));
    }
    if (strcmp(name, "BLOCK_JOB_READY") == 0) {
        if (strcmp(j->state, "running") != 0)
            return;
        j->ready = true;
        job_set_state(j, "ready");
        jobs_write(w);
        broadcast(w, j);
    } else if (strcmp(name, "BLOCK_JOB_COMPLETED") == 0) {
        const char *error = json_string_value(json_object_get(data, "error"));

        /* An abort of a job past READY ends as COMPLETED without a pivot: a cancel. */
        job_finish(w, j, error ? "failed" : j->cancel_requested ? "cancelled" : "completed", error);
    } else if (strcmp(name, "BLOCK_JOB_CANCELLED") == 0) {
        job_finish(w, j, "cancelled", NULL);
    } else if (strcmp(name, "BLOCK_JOB_ERROR") == 0) {
        wk_note(w, "block job %s: I/O error on %s (action %s)", j->id,
                str_or(data, "operation", "?"), str_or(data, "action", "?"));
    }
}

/* ---- adoption and QEMU's end ------------------------------------------------------------ */

static void reconcile_done(struct worker *w, uint64_t token, json_t *reply)
{
    json_t *list = json_object_get(reply, "return"), *q;
    size_t i;

    if (!json_is_array(list))
        return;
    for (size_t k = 0; k < njobs; k++) {
        struct wk_job *j = jobs[k];
        bool seen = false;

        if (job_final(j)) {
            if (!j->cleaned)
                job_cleanup(w, j);
            continue;
        }
        json_array_foreach(list, i, q)
        {
            const char *status = str_or(q, "status", "");

            if (strcmp(str_or(q, "id", ""), j->id) != 0)
                continue;
            seen = true;
            /* Ended while no worker watched: query-jobs still holds how (auto-dismiss off). */
            if (strcmp(status, "concluded") == 0 || strcmp(status, "null") == 0) {
                const char *error = json_string_value(json_object_get(q, "error"));

                job_finish(w, j,
                           error                 ? "failed"
                           : j->cancel_requested ? "cancelled"
                                                 : "completed",
                           error);
            } else if (strcmp(status, "ready") == 0 && strcmp(j->state, "running") == 0) {
                j->ready = true;
                job_set_state(j, "ready");
                jobs_write(w);
                broadcast(w, j);
            }
            break;
        }
        if (!seen)
            job_finish(w, j, "failed", "the job disappeared while no worker watched it");
    }
}

void wk_jobs_adopted(struct worker *w)
{
    if (njobs)
        wk_qmp_send(w, "query-jobs", NULL, reconcile_done, 0);
}

void wk_jobs_qemu_exited(struct worker *w)
{
    if (snap.phase != SNAP_IDLE) {
        wk_control_fail(w, snap.seq, WK_ERR_OPERATION_FAILED, "QEMU exited during the snapshot");
        snap_reset();
    }
    for (size_t i = 0; i < njobs; i++) {
        if (jobs[i]->waiter) {
            wk_control_fail(w, jobs[i]->waiter, WK_ERR_OPERATION_FAILED,
                            "QEMU exited before block job '%s' ended", jobs[i]->id);
            jobs[i]->waiter = 0;
        }
    }
}
