/* The two systemd service protocols hearthd speaks: readiness notification ($NOTIFY_SOCKET) and
 * socket activation ($LISTEN_FDS). Both are small, documented as stable interfaces, and
 * implemented here directly instead of through libsystemd, which would bring gcrypt, lz4,
 * zstd and libcap into hearthd (~0.8 MiB resident, whether or not systemd runs it). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* sd_notify(0, state): a datagram to $NOTIFY_SOCKET; a no-op when it is unset. */
void systemd_notify(const char *state);
/* sd_listen_fds_with_names(1, names): how many sockets start at fd 3 (0 when not activated),
 * their names from $LISTEN_FDNAMES. The variables are unset so children do not inherit them. */
int systemd_listen_fds_with_names(char ***names);

G_END_DECLS
