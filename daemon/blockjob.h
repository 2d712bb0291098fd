/* Block jobs (pull, commit, active commit) as hearthd tracks them. A running domain's job
 * belongs to its worker (worker-jobs.c), which follows QEMU to the end even while hearthd is
 * down; hearthd mirrors it here, answers queries, updates the definitions when a job ends and
 * sends the BLOCK_JOB and BLOCK_JOB_2 events. A shut-off domain's job is qemu-img, run by
 * hearthd itself (blockjob-offline.c). */
#pragma once

#include "domain-store.h"
#include "hearth-daemon.h"
#include "rpc-server.h"

#include <jansson.h>

G_BEGIN_DECLS

/* virDomainBlockJobType and virConnectDomainEventBlockJobStatus */
enum {
    BLOCK_JOB_TYPE_PULL = 1,
    BLOCK_JOB_TYPE_COPY = 2,
    BLOCK_JOB_TYPE_COMMIT = 3,
    BLOCK_JOB_TYPE_ACTIVE_COMMIT = 4,
};
enum {
    BLOCK_JOB_COMPLETED = 0,
    BLOCK_JOB_FAILED = 1,
    BLOCK_JOB_CANCELED = 2,
    BLOCK_JOB_READY = 3,
};

typedef struct BlockJob BlockJob;

/* What a job is, in the terms the definitions are updated in when it ends (node numbers of
 * the live chain, and the paths they had when it began). Kept by the worker as the job's
 * "info", so that a restarted hearthd can finish what it did not see. */
typedef struct {
    char *id;      /* QEMU job id, e.g. pull-vda-libvirt-3-format */
    char *target;  /* "vda" */
    int type;      /* BLOCK_JOB_TYPE_* */
    int top, base; /* node numbers; base -1: the whole chain below top (pull) */
    char *top_path, *base_path, *active_path;
    char *base_format;        /* of base_path */
    char *above_path;         /* the image above top (commit of a middle layer), else NULL */
    GPtrArray *removed_paths; /* images the job takes out of the chain (char *) */
    gboolean delete_files;    /* BLOCK_COMMIT_DELETE: remove those images afterwards */
    guint64 bandwidth;        /* bytes/s, 0 = unlimited */
} BlockJobSpec;

void blockjob_spec_free(BlockJobSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlockJobSpec, blockjob_spec_free)

/* The job on @target (a target name), or NULL. */
BlockJob *blockjob_find(const HearthDomain *dom, const char *target);
gboolean blockjob_any(const HearthDomain *dom);
const BlockJobSpec *blockjob_spec(const BlockJob *job);
/* "starting", "running", "ready". */
const char *blockjob_state(const BlockJob *job);
/* A qemu-img job on a shut-off domain. */
gboolean blockjob_offline(const BlockJob *job);

/* Start a job on a running domain through its worker: @execute is block-stream or
 * block-commit with QMP @arguments (consumed); @remove lists the node numbers the job takes out
 * of the chain. Completes @call (void reply) once the worker has started it. Takes @spec. */
DispatchResult blockjob_start_live(HearthCall *call, HearthDomain *dom, BlockJobSpec *spec,
                                   const char *execute, json_t *arguments, json_t *remove);

/* A commit of @top into @base (a layer below it) of @disk in @def (the live definition, or a
 * shut-off domain's with its chain read from the images): the job's description, and for a
 * live job the block-commit arguments and the nodes it removes. */
BlockJobSpec *blockjob_commit_spec(HearthDomainDisk *disk, HearthDiskSource *top,
                                   HearthDiskSource *above, HearthDiskSource *base,
                                   json_t **arguments, json_t **remove);

/* Jobs hearthd runs for itself (merging a deleted snapshot): no RPC call waits, @watch hears
 * "ready" and then the end ("completed", "failed", "cancelled"). */
typedef void (*BlockJobWatch)(HearthDaemon *daemon, HearthDomain *dom, const char *state,
                              const char *error, gpointer data);
gboolean blockjob_start_internal(HearthDaemon *daemon, HearthDomain *dom, BlockJobSpec *spec,
                                 json_t *arguments, json_t *remove, BlockJobWatch watch,
                                 gpointer data, GError **error);
/* Pivot a ready active commit started that way. */
void blockjob_pivot_internal(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job);
void blockjob_set_watch(BlockJob *job, BlockJobWatch watch, gpointer data);

/* GET_BLOCK_JOB_INFO, SET_SPEED and ABORT for the job on @target. */
DispatchResult blockjob_info(HearthCall *call, HearthDomain *dom, BlockJob *job, gboolean bytes);
DispatchResult blockjob_set_speed(HearthCall *call, HearthDomain *dom, BlockJob *job,
                                  guint64 speed);
DispatchResult blockjob_abort(HearthCall *call, HearthDomain *dom, BlockJob *job, gboolean pivot,
                              gboolean async, GError **error);

/* Hooks from domain-runner.c. */
void blockjob_on_worker_event(HearthDaemon *daemon, HearthDomain *dom, json_t *event);
void blockjob_on_worker_ready(HearthDaemon *daemon, HearthDomain *dom);
void blockjob_on_domain_stopped(HearthDaemon *daemon, HearthDomain *dom);

/* For blockjob-offline.c: register a job hearthd runs itself, and end it. */
BlockJob *blockjob_add_offline(HearthDomain *dom, BlockJobSpec *spec);
void blockjob_offline_progress(BlockJob *job, guint64 cur, guint64 end);
/* The job is READY (an active commit that has copied everything): events, held queries. */
void blockjob_set_ready(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job);
BlockJob *blockjob_find_id(const HearthDomain *dom, const char *id);
/* state: "completed", "failed" or "cancelled"; updates the definitions on success, sends the
 * events and forgets the job. */
void blockjob_end(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job, const char *state,
                  gboolean pivoted, const char *error);

G_END_DECLS
