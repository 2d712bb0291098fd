/* dnsmasq for one network: started (it daemonizes, so its PID comes from its pid file),
 * recognized again after a hearthd restart by PID + process start time + its command line,
 * and stopped with SIGTERM, then SIGKILL. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
    pid_t pid;          /* 0 = none */
    guint64 start_time; /* /proc/PID/stat field 22 */
} DnsmasqPid;

typedef struct {
    const char *binary;      /* dnsmasq */
    const char *conf_file;   /* --conf-file */
    const char *pid_file;    /* as written in the conf file */
    const char *helper;      /* --dhcp-script */
    const char *leases_file; /* HEARTH_LEASES_FILE for the helper */
    const char *bridge;      /* VIR_BRIDGE_NAME, as libvirt sets it */
} DnsmasqLaunch;

/* Start dnsmasq and wait until it serves (its launcher exits once it does). */
gboolean dnsmasq_process_start(const DnsmasqLaunch *launch, DnsmasqPid *out, GError **error);

/* TRUE when @p is a live dnsmasq started with @conf_file (not a reused PID). */
gboolean dnsmasq_process_matches(const DnsmasqPid *p, const char *conf_file);

/* SIGTERM, up to @timeout_ms for it to exit, then SIGKILL. Does nothing unless @p matches. */
void dnsmasq_process_stop(const DnsmasqPid *p, const char *conf_file, guint timeout_ms);
/* The same in two halves, so other work can overlap dnsmasq's exit: SIGTERM now, returning
 * a pidfd (-1: nothing to wait for) that dnsmasq_process_finish() waits on and closes. */
int dnsmasq_process_terminate(const DnsmasqPid *p, const char *conf_file);
void dnsmasq_process_finish(int pidfd, guint timeout_ms);

/* A pidfd for @p (readable once it exits), or -1. */
int dnsmasq_process_pidfd(const DnsmasqPid *p);

/* Start time of a process in clock ticks since boot, 0 when gone (or a zombie). */
guint64 dnsmasq_process_start_time(pid_t pid);

G_END_DECLS
