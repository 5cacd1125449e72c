// Swift Concurrency's global executor on libdispatch's overcommit queue.
//
// Why: on Linux, libdispatch's first worker thread of a non-overcommit global queue (the
// queue Swift's default executor uses) arms a 1 Hz "workqueue monitor" timer that is never
// disarmed (_dispatch_workq_init_once). Idle, that timer is the daemon's largest CPU cost
// after the advertisements themselves. Overcommit workers are not monitored, so with every
// job of the global executor on the overcommit queue the timer is never armed.
//
// The hooks are the runtime's documented override points (swift/Runtime/Concurrency.h,
// also used by SwiftNIO); the types below restate its ABI: hooks and swift_job_run use the
// Swift calling convention, and an executor reference is two words, {NULL, 0} being the
// generic executor. The dispatch functions are declared here rather than through
// <dispatch/dispatch.h>, which is not on a C target's include path; the overcommit flag is
// libdispatch's DISPATCH_QUEUE_OVERCOMMIT (queue_private.h).

#include "overcommit_executor.h"

#include <time.h>

#define OVERCAST_SWIFTCALL __attribute__((swiftcall))

typedef struct OvercastJob OvercastJob;
typedef struct {
    void *identity;
    uintptr_t implementation;
} OvercastExecutorRef;

extern OVERCAST_SWIFTCALL void swift_job_run(OvercastJob *job, OvercastExecutorRef executor);

typedef OVERCAST_SWIFTCALL void (*OvercastEnqueueHook)(OvercastJob *job, void *original);
typedef OVERCAST_SWIFTCALL void (*OvercastEnqueueWithDelayHook)(unsigned long long delay, OvercastJob *job,
                                                                void *original);
typedef OVERCAST_SWIFTCALL void (*OvercastEnqueueWithDeadlineHook)(long long seconds, long long nanoseconds,
                                                                   long long toleranceSeconds,
                                                                   long long toleranceNanoseconds, int clock,
                                                                   OvercastJob *job, void *original);
extern OvercastEnqueueHook swift_task_enqueueGlobal_hook;
extern OvercastEnqueueWithDelayHook swift_task_enqueueGlobalWithDelay_hook;
extern OvercastEnqueueWithDeadlineHook swift_task_enqueueGlobalWithDeadline_hook;

extern void *dispatch_get_global_queue(intptr_t identifier, uintptr_t flags);
extern void dispatch_async_f(void *queue, void *context, void (*work)(void *context));
extern void dispatch_after_f(uint64_t when, void *queue, void *context, void (*work)(void *context));
extern uint64_t dispatch_time(uint64_t when, int64_t delta);

enum {
    OVERCAST_QOS_CLASS_DEFAULT = 0x15,
    OVERCAST_DISPATCH_QUEUE_OVERCOMMIT = 0x2,
    OVERCAST_DISPATCH_TIME_NOW = 0,
    // Swift's clock identifiers (_ClockID): continuous and suspending.
    OVERCAST_SWIFT_CONTINUOUS_CLOCK = 1,
};

/// libdispatch's own static queue (a table lookup); the default-QoS queue if this
/// libdispatch has no overcommit flag, so the sleep helper works either way.
static void *overcommitQueue(void) {
    void *queue = dispatch_get_global_queue(OVERCAST_QOS_CLASS_DEFAULT, OVERCAST_DISPATCH_QUEUE_OVERCOMMIT);
    return queue != 0 ? queue : dispatch_get_global_queue(OVERCAST_QOS_CLASS_DEFAULT, 0);
}

static void runJob(void *job) {
    swift_job_run(job, (OvercastExecutorRef){ 0, 0 });
}

void overcast_overcommit_after(uint64_t nanoseconds, void *context, void (*work)(void *context)) {
    if (nanoseconds == 0) {
        dispatch_async_f(overcommitQueue(), context, work);
        return;
    }
    int64_t delta = nanoseconds > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)nanoseconds;
    dispatch_after_f(dispatch_time(OVERCAST_DISPATCH_TIME_NOW, delta), overcommitQueue(), context, work);
}

static OVERCAST_SWIFTCALL void enqueue(OvercastJob *job, void *original) {
    (void)original;
    dispatch_async_f(overcommitQueue(), job, runJob);
}

static OVERCAST_SWIFTCALL void enqueueWithDelay(unsigned long long delay, OvercastJob *job, void *original) {
    (void)original;
    overcast_overcommit_after(delay, job, runJob);
}

static OVERCAST_SWIFTCALL void enqueueWithDeadline(long long seconds, long long nanoseconds, long long toleranceSeconds,
                                                   long long toleranceNanoseconds, int clock, OvercastJob *job,
                                                   void *original) {
    (void)toleranceSeconds;
    (void)toleranceNanoseconds;
    (void)original;
    // The deadline is on Swift's clock (continuous: CLOCK_BOOTTIME, suspending:
    // CLOCK_MONOTONIC); dispatch times are relative to CLOCK_MONOTONIC, so pass the
    // remaining time. Saturating: a deadline far away waits (almost) forever, not wraps.
    struct timespec now;
    clock_gettime(clock == OVERCAST_SWIFT_CONTINUOUS_CLOCK ? CLOCK_BOOTTIME : CLOCK_MONOTONIC, &now);
    long long remainingSeconds = seconds - (long long)now.tv_sec;
    long long remainingNanoseconds = nanoseconds - (long long)now.tv_nsec;
    uint64_t delay = 0;
    if (remainingSeconds > 0 || (remainingSeconds == 0 && remainingNanoseconds > 0)) {
        if (remainingSeconds >= (long long)(INT64_MAX / 1000000000LL) - 1) {
            delay = (uint64_t)INT64_MAX;
        } else {
            long long total = remainingSeconds * 1000000000LL + remainingNanoseconds;
            delay = total > 0 ? (uint64_t)total : 0;
        }
    }
    overcast_overcommit_after(delay, job, runJob);
}

bool overcast_overcommit_executor_install(void) {
    if (dispatch_get_global_queue(OVERCAST_QOS_CLASS_DEFAULT, OVERCAST_DISPATCH_QUEUE_OVERCOMMIT) == 0) return false;
    swift_task_enqueueGlobal_hook = enqueue;
    swift_task_enqueueGlobalWithDelay_hook = enqueueWithDelay;
    swift_task_enqueueGlobalWithDeadline_hook = enqueueWithDeadline;
    return true;
}

bool overcast_overcommit_executor_installed(void) {
    return swift_task_enqueueGlobal_hook == enqueue;
}
