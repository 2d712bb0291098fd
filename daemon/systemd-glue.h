/* libsystemd's notify and socket-activation calls, loaded only when systemd started us
 * (NOTIFY_SOCKET or LISTEN_FDS set). Linking libsystemd and what it pulls in (gcrypt, lz4,
 * zstd, libcap) would cost hearthd ~0.8 MiB of resident memory on every host, for two calls
 * that only matter under systemd. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* sd_notify(0, state); a no-op outside systemd. */
void systemd_notify(const char *state);
/* sd_listen_fds_with_names(1, names): 0 outside socket activation, < 0 on error. */
int systemd_listen_fds_with_names(char ***names);

G_END_DECLS
