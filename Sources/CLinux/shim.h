// Linux kernel headers that Glibc's module does not export (packet sockets, Ethernet
// protocol numbers). Declarations only.
#ifndef OVERCAST_CLINUX_SHIM_H
#define OVERCAST_CLINUX_SHIM_H
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#endif
