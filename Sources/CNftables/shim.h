// libnftables: nft's command language from a buffer, with its output and errors captured.
#include <nftables/libnftables.h>
