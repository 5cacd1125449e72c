#ifndef OVERCAST_OVERCOMMIT_EXECUTOR_H
#define OVERCAST_OVERCOMMIT_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>

/// Points Swift Concurrency's global-executor hooks (enqueue, enqueue with delay, enqueue
/// with deadline) at libdispatch's default-QoS overcommit queue. False, and nothing
/// changed, when libdispatch has no such queue. Call once, before the first task runs.
bool overcast_overcommit_executor_install(void);

/// Whether the hooks are ours.
bool overcast_overcommit_executor_installed(void);

/// Runs `work(context)` on the overcommit queue after `nanoseconds` (at least).
void overcast_overcommit_after(uint64_t nanoseconds, void *context, void (*work)(void *context));

/// The label of the dispatch queue running the caller ("" when none): on the overcommit
/// queue, "com.apple.root.default-qos.overcommit".
const char *overcast_current_queue_label(void);

#endif
