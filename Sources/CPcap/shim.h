// libpcap for the PacketCapture target. No logic here.
#ifndef OVERCAST_CPCAP_SHIM_H
#define OVERCAST_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
