/* Network lifecycle events (NETWORK_EVENT_LIFECYCLE, 315) to every connection that
 * registered for them with CONNECT_NETWORK_EVENT_REGISTER_ANY, honouring its filter. */
#pragma once

#include "hearth-daemon.h"
#include "network-def.h"
#include "remote-protocol.h"

G_BEGIN_DECLS

/* virNetworkEventLifecycleType */
enum {
    NETWORK_EVENT_DEFINED = 0,
    NETWORK_EVENT_UNDEFINED = 1,
    NETWORK_EVENT_STARTED = 2,
    NETWORK_EVENT_STOPPED = 3,
};

#define NETWORK_EVENT_ID_LIFECYCLE 0

void network_events_lifecycle(HearthDaemon *daemon, const char *name, const guint8 *uuid,
                              int event);

/* Fill a wire network reference (the name is a copy owned by the struct). */
void network_to_wire(const HearthNetworkDef *def, RemoteNonnullNetwork *out);

G_END_DECLS
