// Linux kernel headers and GNU calls that Glibc's Swift module does not export
// (packet sockets, Ethernet protocol numbers, socket filters, epoll_pwait2, pipe2, inotify,
// the loader's list of objects). Declarations and
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
#include <sys/epoll.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <elf.h>
#include <sys/prctl.h>
#include <sys/inotify.h>

extern int pipe2(int pipefd[2], int flags);

/// epoll_pwait2 (Linux 5.11): epoll with a nanosecond timeout, called by number so it
/// builds against any glibc; -1 with ENOSYS on an older kernel (the caller falls back).
static inline int overcast_epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout) {
#ifdef SYS_epoll_pwait2
    return (int)syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout, (void *)0, (size_t)8);
#else
    errno = ENOSYS;
    return -1;
#endif
}
/// The loader's view of one loaded object: the first members of glibc's struct
/// dl_phdr_info (present in every version), whose declaration, like dl_iterate_phdr's,
/// the Glibc module hides behind _GNU_SOURCE.
struct overcast_dl_phdr_info {
    Elf64_Addr dlpi_addr;
    const char *dlpi_name;
    const Elf64_Phdr *dlpi_phdr;
    Elf64_Half dlpi_phnum;
};
extern int dl_iterate_phdr(int (*callback)(struct overcast_dl_phdr_info *info, size_t size, void *data), void *data);
/// struct ucred (SO_PEERCRED), hidden behind _GNU_SOURCE in glibc; same layout.
struct overcast_ucred { pid_t pid; uid_t uid; gid_t gid; };

extern int setns(int fd, int nstype);
/// Moves the calling thread into the network namespace open at `fd` (CLONE_NEWNET).
static inline int overcast_setns_net(int fd) { return setns(fd, 0x40000000); }

static inline int overcast_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

/// Names the calling thread (PR_SET_NAME; prctl is variadic, so not callable from Swift).
/// The kernel keeps at most 15 bytes and cuts a longer name.
static inline int overcast_set_thread_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }
// Drops one capability from the calling thread only (capset acts per thread): a lab test
// runs a check as an unprivileged daemon would, without touching the test process.
#include <linux/capability.h>
static inline int overcast_drop_thread_capability(int capability) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (capability < 0 || capability >= 64 || syscall(SYS_capget, &header, data) != 0) return -1;
    unsigned bit = 1u << (capability % 32);
    data[capability / 32].effective &= ~bit;
    data[capability / 32].permitted &= ~bit;
    data[capability / 32].inheritable &= ~bit;
    return (int)syscall(SYS_capset, &header, data);
}

#endif
