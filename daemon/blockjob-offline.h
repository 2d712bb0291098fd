/* Block jobs on a shut-off domain, run by hearthd itself with qemu-img (beyond libvirt 9.0,
 * which needs a running guest): pull = qemu-img rebase, commit = qemu-img commit (plus a rebase
 * of the image above a committed middle layer). Progress comes from qemu-img -p and is reported
 * through GET_BLOCK_JOB_INFO and the same events as a live job. */
#pragma once

#include "blockjob.h"

G_BEGIN_DECLS

/* Takes @spec. Completes @call once qemu-img runs. */
DispatchResult blockjob_offline_start(HearthCall *call, HearthDomain *dom, BlockJobSpec *spec,
                                      GError **error);
/* The same without a call: the job, or NULL. */
BlockJob *blockjob_offline_begin(HearthDaemon *daemon, HearthDomain *dom, BlockJobSpec *spec,
                                 GError **error);
/* A ready active commit moves the persistent disk to its base. */
void blockjob_offline_pivot(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job);
/* Stops qemu-img (the images stay valid: qemu-img writes whole clusters before it updates the
 * header). A pivot has no meaning without a guest. */
DispatchResult blockjob_offline_abort(HearthCall *call, HearthDomain *dom, BlockJob *job,
                                      gboolean pivot, GError **error);

G_END_DECLS
