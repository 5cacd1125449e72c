// Swift Concurrency's global executor on libdispatch's overcommit queue.
//
// Why: on Linux, libdispatch's first worker thread of a non-overcommit global queue (the
// queue Swift's default executor uses) arms a 1 Hz "workqueue monitor" timer that is never
// disarmed (_dispatch_workq_init_once). Idle, that timer is the daemon's largest CPU cost
// after the advertisements themselves. Overcommit workers are not monitored, so with every
// job of the global executor on the overcommit queue the timer is never armed.
//
// The hooks are the runtime's override points (swift/Runtime/Concurrency.h, also used by
// SwiftNIO); the types below restate its ABI: hooks and swift_job_run use the Swift
// calling convention, and an executor reference is two words, {NULL, 0} being the generic
// executor. Swift 6.3's standard library sends Task.sleep and Task.yield to its own
// dispatch executor without calling the delay and deadline hooks; those two are set for
// whatever still calls them (other runtime versions, other libraries), and the daemon
// sleeps with overcast_overcommit_after instead.
//
// The dispatch functions are declared here rather than through <dispatch/dispatch.h>,
// which is not on a C target's include path; the overcommit flag is libdispatch's
// DISPATCH_QUEUE_OVERCOMMIT (queue_private.h), and a dispatch_time_t with bit 63 set
// counts on the monotonic clock that includes suspend (CLOCK_BOOTTIME), without it on
// uptime (CLOCK_MONOTONIC) (libdispatch's shims/time.h).

#include "overcommit_executor.h"

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
typedef OVERCAST_SWIFTCALL void (*OvercastEnqueueWithDeadline)(long long seconds, long long nanoseconds,
                                                               long long toleranceSeconds,
                                                               long long toleranceNanoseconds, int clock,
                                                               OvercastJob *job);
typedef OVERCAST_SWIFTCALL void (*OvercastEnqueueWithDeadlineHook)(long long seconds, long long nanoseconds,
                                                                   long long toleranceSeconds,
                                                                   long long toleranceNanoseconds, int clock,
                                                                   OvercastJob *job,
                                                                   OvercastEnqueueWithDeadline original);
extern OvercastEnqueueHook swift_task_enqueueGlobal_hook;
extern OvercastEnqueueWithDelayHook swift_task_enqueueGlobalWithDelay_hook;
extern OvercastEnqueueWithDeadlineHook swift_task_enqueueGlobalWithDeadline_hook;

extern void *dispatch_get_global_queue(intptr_t identifier, uintptr_t flags);
extern void dispatch_async_f(void *queue, void *context, void (*work)(void *context));
extern void dispatch_after_f(uint64_t when, void *queue, void *context, void (*work)(void *context));
extern uint64_t dispatch_time(uint64_t when, int64_t delta);
extern const char *dispatch_queue_get_label(void *queue);

#define OVERCAST_QOS_CLASS_DEFAULT 0x15
#define OVERCAST_DISPATCH_QUEUE_OVERCOMMIT 0x2ull
#define OVERCAST_DISPATCH_TIME_NOW 0ull
#define OVERCAST_DISPATCH_TIME_FOREVER (~0ull)
#define OVERCAST_DISPATCH_MONOTONIC_MASK (1ull << 63)
#define OVERCAST_DISPATCH_TIME_MAX_VALUE ((1ull << 62) - 1)
// Swift's clock identifiers (_ClockID).
#define OVERCAST_SWIFT_CONTINUOUS_CLOCK 1
#define OVERCAST_SWIFT_SUSPENDING_CLOCK 2

/// libdispatch's own static queue (a table lookup); the default-QoS queue if this
/// libdispatch has no overcommit flag, so the sleep helper works either way.
static void *overcommitQueue(void) {
    void *queue = dispatch_get_global_queue(OVERCAST_QOS_CLASS_DEFAULT, OVERCAST_DISPATCH_QUEUE_OVERCOMMIT);
    return queue != 0 ? queue : dispatch_get_global_queue(OVERCAST_QOS_CLASS_DEFAULT, 0);
}

static void runJob(void *job) {
    swift_job_run(job, (OvercastExecutorRef){ 0, 0 });
}

static void enqueueAt(uint64_t when, void *context, void (*work)(void *context)) {
    if (when == OVERCAST_DISPATCH_TIME_NOW) {
        dispatch_async_f(overcommitQueue(), context, work);
    } else {
        dispatch_after_f(when, overcommitQueue(), context, work);
    }
}

static int64_t clampedDelta(uint64_t nanoseconds) {
    return nanoseconds > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)nanoseconds;
}

void overcast_overcommit_after(uint64_t nanoseconds, void *context, void (*work)(void *context)) {
    // On the clock that counts suspend, as Task.sleep(for:) (the continuous clock) does.
    enqueueAt(nanoseconds == 0 ? OVERCAST_DISPATCH_TIME_NOW
                               : dispatch_time(OVERCAST_DISPATCH_MONOTONIC_MASK, clampedDelta(nanoseconds)),
              context, work);
}

static OVERCAST_SWIFTCALL void enqueue(OvercastJob *job, void *original) {
    (void)original;
    dispatch_async_f(overcommitQueue(), job, runJob);
}

static OVERCAST_SWIFTCALL void enqueueWithDelay(unsigned long long delay, OvercastJob *job, void *original) {
    (void)original;
    // As the runtime's own dispatch executor: a delay on uptime.
    enqueueAt(delay == 0 ? OVERCAST_DISPATCH_TIME_NOW : dispatch_time(OVERCAST_DISPATCH_TIME_NOW, clampedDelta(delay)),
              job, runJob);
}

static OVERCAST_SWIFTCALL void enqueueWithDeadline(long long seconds, long long nanoseconds, long long toleranceSeconds,
                                                   long long toleranceNanoseconds, int clock, OvercastJob *job,
                                                   OvercastEnqueueWithDeadline original) {
    if (clock != OVERCAST_SWIFT_CONTINUOUS_CLOCK && clock != OVERCAST_SWIFT_SUSPENDING_CLOCK) {
        // A clock this file does not know: the runtime's own executor decides.
        original(seconds, nanoseconds, toleranceSeconds, toleranceNanoseconds, clock, job);
        return;
    }
    // The deadline as an absolute dispatch time on the same clock (continuous:
    // CLOCK_BOOTTIME, suspending: CLOCK_MONOTONIC), saturating: a deadline before the
    // clock's start fires at once, one past dispatch's range never (as the runtime does).
    uint64_t value = 0;
    if (seconds >= 0) {
        uint64_t whole;
        if (__builtin_mul_overflow((uint64_t)seconds, 1000000000ull, &whole)
            || __builtin_add_overflow(whole, (uint64_t)(nanoseconds > 0 ? nanoseconds : 0), &value)) {
            value = OVERCAST_DISPATCH_TIME_FOREVER;
        }
    }
    uint64_t when = value >= OVERCAST_DISPATCH_TIME_MAX_VALUE ? OVERCAST_DISPATCH_TIME_FOREVER
                    : clock == OVERCAST_SWIFT_CONTINUOUS_CLOCK ? value | OVERCAST_DISPATCH_MONOTONIC_MASK
                    : value;
    enqueueAt(when, job, runJob);
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

const char *overcast_current_queue_label(void) {
    const char *label = dispatch_queue_get_label(0);
    return label != 0 ? label : "";
}
