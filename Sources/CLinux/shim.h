// Linux kernel headers and GNU calls that Glibc's Swift module does not export
// (packet sockets, Ethernet protocol numbers, socket filters, ppoll, pipe2). Declarations and
// pass-through wrappers only.
#ifndef OVERCAST_CLINUX_SHIM_H
#define OVERCAST_CLINUX_SHIM_H
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

extern int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);
extern int pipe2(int pipefd[2], int flags);

/// ppoll without a signal mask: nanosecond timeouts for the event loops.
static inline int overcast_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout) {
    return ppoll(fds, nfds, timeout, 0);
}
/// struct ucred (SO_PEERCRED), hidden behind _GNU_SOURCE in glibc; same layout.
struct overcast_ucred { pid_t pid; uid_t uid; gid_t gid; };

extern int setns(int fd, int nstype);
/// Moves the calling thread into the network namespace open at `fd` (CLONE_NEWNET).
static inline int overcast_setns_net(int fd) { return setns(fd, 0x40000000); }

static inline int overcast_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
#endif
