/* One qemu-img after another (never waited on in the main loop); its -p output
 * ("    (42.00/100%)\r") is the job's progress, reported as cur/end out of 10000. */
#include "blockjob-offline.h"
#include "child-process.h"
#include "hearth-error.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_END 10000

typedef struct {
    HearthDaemon *daemon;
    guint8 uuid[16];
    char *id;
    GPtrArray *steps; /* GStrv, run in order */
    guint step;
    ChildProcess *proc;
    GString *output; /* the tail of qemu-img's output, for an error message */
    gboolean cancelled;
    HearthCall *abort_call; /* a synchronous abort waiting for qemu-img to go */
} OfflineRun;

static GPtrArray *runs; /* OfflineRun * */

static void run_free(OfflineRun *r)
{
    if (runs)
        g_ptr_array_remove(runs, r);
    g_free(r->id);
    g_ptr_array_unref(r->steps);
    g_clear_pointer(&r->proc, child_process_free);
    g_string_free(r->output, TRUE);
    g_free(r);
}

static OfflineRun *run_find(const HearthDomain *dom, const char *id)
{
    for (guint i = 0; runs && i < runs->len; i++) {
        OfflineRun *r = runs->pdata[i];

        if (memcmp(r->uuid, dom->def->uuid, 16) == 0 && g_str_equal(r->id, id))
            return r;
    }
    return NULL;
}

static void add_step(GPtrArray *steps, const char *first, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, g_strdup(a));
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    g_ptr_array_add(steps, g_ptr_array_free(argv, FALSE));
}

/* ---- progress ---- */

static void parse_progress(OfflineRun *r, BlockJob *job)
{
    const char *s = r->output->str;
    const char *open = strrchr(s, '(');
    double pct;
    char *end;

    if (!open)
        return;
    pct = g_ascii_strtod(open + 1, &end);
    if (end == open + 1 || !g_str_has_prefix(end, "/100%)"))
        return;
    /* Each step is an equal share of the whole job. */
    pct = (r->step * 100.0 + pct) / r->steps->len;
    blockjob_offline_progress(job, (guint64)(pct * PROGRESS_END / 100), PROGRESS_END);
}

static void on_output(ChildProcess *proc, const char *data, gsize len, gpointer user_data)
{
    OfflineRun *r = user_data;
    HearthDomain *dom = domain_store_lookup_by_uuid(r->daemon->domains, r->uuid);
    BlockJob *job = dom ? blockjob_find_id(dom, r->id) : NULL;

    (void)proc;
    g_string_append_len(r->output, data, (gssize)len);
    if (r->output->len > 4096)
        g_string_erase(r->output, 0, (gssize)(r->output->len - 4096));
    if (job)
        parse_progress(r, job);
}

/* ---- steps ---- */

static gboolean start_step(OfflineRun *r, GError **error);

static char *error_text(OfflineRun *r)
{
    g_auto(GStrv) lines = g_strsplit_set(r->output->str, "\r\n", -1);

    /* The last line that is not progress. */
    for (guint i = g_strv_length(lines); i-- > 0;) {
        char *l = g_strstrip(lines[i]);

        if (*l && !(l[0] == '(' && g_str_has_suffix(l, "%)")))
            return g_strdup(l);
    }
    return g_strdup(_("qemu-img failed"));
}

static void on_step_exit(ChildProcess *proc, gpointer data)
{
    OfflineRun *r = data;
    HearthDomain *dom = domain_store_lookup_by_uuid(r->daemon->domains, r->uuid);
    BlockJob *job = dom ? blockjob_find_id(dom, r->id) : NULL;
    HearthCall *abort_call = g_steal_pointer(&r->abort_call);
    g_autoptr(GError) error = NULL;

    if (!job) {
        run_free(r);
        return;
    }
    if (r->cancelled) {
        blockjob_end(r->daemon, dom, job, "cancelled", FALSE, NULL);
        run_free(r);
        if (abort_call)
            hearth_call_complete(abort_call);
        return;
    }
    if (!child_process_succeeded(proc)) {
        g_autofree char *why = error_text(r);

        blockjob_end(r->daemon, dom, job, "failed", FALSE, why);
        run_free(r);
        return;
    }
    r->step++;
    if (r->step < r->steps->len) {
        if (start_step(r, &error))
            return;
        blockjob_end(r->daemon, dom, job, "failed", FALSE, error->message);
        run_free(r);
        return;
    }
    blockjob_offline_progress(job, PROGRESS_END, PROGRESS_END);
    /* An active commit waits for its pivot (or an abort), as a live one does. */
    if (blockjob_spec(job)->type == BLOCK_JOB_TYPE_ACTIVE_COMMIT) {
        g_clear_pointer(&r->proc, child_process_free);
        blockjob_set_ready(r->daemon, dom, job);
        return;
    }
    blockjob_end(r->daemon, dom, job, "completed", FALSE, NULL);
    run_free(r);
}

static gboolean start_step(OfflineRun *r, GError **error)
{
    GStrv argv = r->steps->pdata[r->step];

    g_clear_pointer(&r->proc, child_process_free);
    g_string_truncate(r->output, 0);
    r->proc = child_process_spawn((const char *const *)argv, NULL,
                                  CHILD_STDOUT_PIPE | CHILD_STDERR_MERGE, error);
    if (!r->proc)
        return FALSE;
    child_process_watch(r->proc, on_output, on_step_exit, r);
    return TRUE;
}

BlockJob *blockjob_offline_begin(HearthDaemon *daemon, HearthDomain *dom, BlockJobSpec *spec,
                                 GError **error)
{
    g_autoptr(BlockJobSpec) owned = spec;
    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");
    OfflineRun *r;

    if (!qemu_img) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("qemu-img is needed for block jobs on a shut-off domain and was not found"));
        return NULL;
    }
    r = g_new0(OfflineRun, 1);
    r->daemon = daemon;
    memcpy(r->uuid, dom->def->uuid, 16);
    r->id = g_strdup(spec->id);
    r->steps = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    r->output = g_string_new(NULL);
    switch (spec->type) {
    case BLOCK_JOB_TYPE_PULL:
        /* Safe-mode rebase: the data the top image no longer finds below comes up into it. */
        if (spec->base_path)
            add_step(r->steps, qemu_img, "rebase", "-p", "-F", spec->base_format, "-b",
                     spec->base_path, spec->top_path, NULL);
        else
            add_step(r->steps, qemu_img, "rebase", "-p", "-b", "", spec->top_path, NULL);
        break;
    case BLOCK_JOB_TYPE_COMMIT:
        /* Into base, leaving top as it was (-d), then the image above skips to base. */
        add_step(r->steps, qemu_img, "commit", "-p", "-d", "-b", spec->base_path, spec->top_path,
                 NULL);
        add_step(r->steps, qemu_img, "rebase", "-u", "-F", spec->base_format, "-b", spec->base_path,
                 spec->above_path, NULL);
        break;
    case BLOCK_JOB_TYPE_ACTIVE_COMMIT:
        add_step(r->steps, qemu_img, "commit", "-p", "-d", "-b", spec->base_path, spec->top_path,
                 NULL);
        break;
    }
    if (!start_step(r, error)) {
        run_free(r);
        return NULL;
    }
    if (!runs)
        runs = g_ptr_array_new();
    g_ptr_array_add(runs, r);
    g_info("domain '%s': block job %s on the images (qemu-img)", dom->def->name, spec->id);
    return blockjob_add_offline(dom, g_steal_pointer(&owned));
}

DispatchResult blockjob_offline_start(HearthCall *call, HearthDomain *dom, BlockJobSpec *spec,
                                      GError **error)
{
    return blockjob_offline_begin(rpc_client_get_daemon(call->client), dom, spec, error)
               ? DISPATCH_DONE
               : DISPATCH_FAILED;
}

void blockjob_offline_pivot(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job)
{
    OfflineRun *r = run_find(dom, blockjob_spec(job)->id);

    blockjob_end(daemon, dom, job, "completed", TRUE, NULL);
    if (r)
        run_free(r);
}

DispatchResult blockjob_offline_abort(HearthCall *call, HearthDomain *dom, BlockJob *job,
                                      gboolean pivot, GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    OfflineRun *r = run_find(dom, blockjob_spec(job)->id);
    gboolean ready = g_strcmp0(blockjob_state(job), "ready") == 0;

    if (pivot && blockjob_spec(job)->type != BLOCK_JOB_TYPE_ACTIVE_COMMIT) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("job type '%s' does not support pivot"),
                    blockjob_spec(job)->type == BLOCK_JOB_TYPE_PULL ? "pull" : "commit");
        return DISPATCH_FAILED;
    }
    if (pivot && !ready) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("block job '%s' not ready for pivot yet"), blockjob_spec(job)->id);
        return DISPATCH_FAILED;
    }
    if (ready || !r || !r->proc) {
        /* Nothing runs any more: a pivot moves the disk to base, an abort keeps the top. */
        blockjob_end(daemon, dom, job, pivot ? "completed" : "cancelled", pivot, NULL);
        if (r)
            run_free(r);
        return DISPATCH_DONE;
    }
    /* qemu-img writes the new data before it changes any header: stopping it leaves every
     * image of the chain readable as before. */
    r->cancelled = TRUE;
    r->abort_call = call;
    child_process_kill(r->proc);
    return DISPATCH_ASYNC;
}
