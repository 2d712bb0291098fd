/* The daemon's shared state, reachable from every request handler. */
#pragma once

#include "daemon-config.h"
#include "daemon-paths.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct RpcServer RpcServer;
typedef struct DomainStore DomainStore;
typedef struct NetworkDriver NetworkDriver;

typedef struct HearthDaemon {
    DaemonPaths *paths;
    DaemonConfig *config;
    RpcServer *server;
    DomainStore *domains;
    NetworkDriver *networks;
    GMainLoop *loop;
    char *hostname;
} HearthDaemon;

G_END_DECLS
