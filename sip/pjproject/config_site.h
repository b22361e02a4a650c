/*
 * outdial's pjproject config_site.h: copied to pjlib/include/pj/config_site.h by
 * scripts/build_pjsua2.py before the build. Changing this file changes the build's
 * cache key, so the next `make` rebuilds the pjsua2 wheel.
 *
 * Sizing: a SIP worker holds up to K customer calls, each with its agent leg
 * (2K calls), one prompt player and one recorder per leg, and one AMD frame port
 * per customer call. sip/limits.py reads these limits back at start and derives
 * K from them; nothing here is assumed by the Python code.
 */
#ifndef OUTDIAL_CONFIG_SITE_H
#define OUTDIAL_CONFIG_SITE_H

/* Calls per process (stock: 4). 128 = 64 customer calls with their agent legs. */
#define PJSUA_MAX_CALLS             128

/* With hasIoqueue=False every call's RTP and RTCP sockets join the SIP ioqueue,
 * which is sized by PJSIP_MAX_TRANSPORTS (default: PJ_IOQUEUE_MAX_HANDLES = 64).
 * 128 calls x 2 sockets + transports fits well inside 1024. */
#define PJ_IOQUEUE_MAX_HANDLES      1024
#define PJSIP_MAX_TRANSPORTS        1024

/* Static arrays in pjsua (stock: 32 each); one player and one recorder per leg. */
#define PJSUA_MAX_PLAYERS           256
#define PJSUA_MAX_RECORDERS         256

/* Conference bridge slots (stock: 254): calls + players + recorders + AMD ports. */
#define PJSUA_MAX_CONF_PORTS        1024

/* Audio only. */
#define PJMEDIA_HAS_VIDEO           0

#endif
