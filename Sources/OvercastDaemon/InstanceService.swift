import Logging
import ServiceLifecycle

/// One VRRP instance as a service: it runs until a graceful shutdown (SIGTERM) or until
/// a reload retires it, and in both cases hands over cleanly: a MASTER sends priority 0
/// and removes its addresses before `run` returns.
struct InstanceService: Service {
    let runtime: InstanceRuntime

    func run() async throws {
        runtime.start()
        await withGracefulShutdownHandler {
            await runtime.waitUntilStopped()
        } onGracefulShutdown: {
            runtime.post(.event(.stop))
        }
    }
}
