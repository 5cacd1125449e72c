// libnl-3 (core, generic netlink, route) for the LinuxNet target. No logic here.
#ifndef OVERCAST_CNETLINK_SHIM_H
#define OVERCAST_CNETLINK_SHIM_H
#include <netlink/netlink.h>
#include <netlink/version.h>
#include <netlink/socket.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/rule.h>
#include <netlink/route/link/ipgre.h>
#include <netlink/route/link/bridge.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>

/// LIBNL_STRING is a macro, invisible to Swift.
static inline const char *overcast_libnl_version(void) { return LIBNL_STRING; }
#endif
