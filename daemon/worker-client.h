/* hearthd's end of one worker's control socket (docs/worker-protocol.md): JSON lines,
 * requests answered in order, notifications in between. Never blocks the main loop. */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

typedef struct WorkerClient WorkerClient;

/* A reply: exactly one of result (the "return" object) or error is set. */
typedef void (*WorkerReplyFunc)(WorkerClient *wc, json_t *result, const GError *error,
                                gpointer user_data);
/* Notifications ({"event": ...}) and the end of the connection (event == NULL). */
typedef void (*WorkerEventFunc)(WorkerClient *wc, json_t *event, gpointer user_data);

/* Connect to SOCKET_PATH; on_greeting-style readiness is reported as the first event, a
 * {"event":"greeting", ...} object built from the worker's greeting line. */
WorkerClient *worker_client_connect(const char *socket_path, WorkerEventFunc on_event,
                                    gpointer user_data, GError **error);
void worker_client_free(WorkerClient *wc);

/* Send {"id":N,"cmd":CMD,...args} (args may be NULL; it is consumed). The reply callback runs
 * exactly once: with the worker's answer, a timeout error after timeout_ms, or a
 * connection-lost error. */
void worker_client_request(WorkerClient *wc, const char *cmd, json_t *args, guint timeout_ms,
                           WorkerReplyFunc on_reply, gpointer user_data);

gboolean worker_client_is_connected(WorkerClient *wc);

G_END_DECLS
