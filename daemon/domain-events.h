/* Domain events: who registered for what (per connection), and delivering lifecycle events
 * to every matching registration, in the callback form or the legacy one. */
#pragma once

#include "domain-store.h"
#include "hearth-daemon.h"
#include "remote-protocol.h"

G_BEGIN_DECLS

/* virDomainEventType and the details we emit. */
enum {
    DOMAIN_EVENT_DEFINED = 0,
    DOMAIN_EVENT_UNDEFINED = 1,
    DOMAIN_EVENT_STARTED = 2,
    DOMAIN_EVENT_SUSPENDED = 3,
    DOMAIN_EVENT_RESUMED = 4,
    DOMAIN_EVENT_STOPPED = 5,
    DOMAIN_EVENT_SHUTDOWN = 6,
};
enum {
    DOMAIN_EVENT_DEFINED_ADDED = 0,
    DOMAIN_EVENT_DEFINED_UPDATED = 1,
    DOMAIN_EVENT_DEFINED_RENAMED = 2,
    DOMAIN_EVENT_UNDEFINED_REMOVED = 0,
    DOMAIN_EVENT_UNDEFINED_RENAMED = 1,
};

#define DOMAIN_EVENT_ID_LIFECYCLE 0
#define DOMAIN_EVENT_ID_BLOCK_JOB 8
#define DOMAIN_EVENT_ID_BLOCK_JOB_2 16
#define DOMAIN_EVENT_ID_METADATA_CHANGE 23
#define DOMAIN_EVENT_ID_LAST 27

void domain_events_lifecycle(HearthDaemon *daemon, const HearthDomain *dom, int event, int detail);
void domain_events_metadata_change(HearthDaemon *daemon, const HearthDomain *dom, int type,
                                   const char *nsuri);
/* A block job changed (virConnectDomainEventBlockJobStatus: 0 completed, 1 failed, 2 canceled,
 * 3 ready): BLOCK_JOB names the disk by @path (its image), BLOCK_JOB_2 by @target ("vda"). */
void domain_events_block_job(HearthDaemon *daemon, const HearthDomain *dom, const char *path,
                             const char *target, int type, int status);

/* Fill a wire domain reference from a domain (strings are copies owned by the struct). */
void domain_to_wire(const HearthDomain *dom, RemoteNonnullDomain *out);

G_END_DECLS
