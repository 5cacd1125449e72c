import CLinux
import Foundation

extension Thread {
    /// An unstarted thread that gives itself `name` in the kernel before running `body`:
    /// the name `top -H`, `ps -L` and /proc/PID/task/TID/comm show. Foundation keeps
    /// `Thread.name` to itself on Linux (it names the pthread only when set from the
    /// thread itself), so without this every thread showed the dispatch worker's name it
    /// was created from.
    public static func named(_ name: String, _ body: @escaping @Sendable () -> Void) -> Thread {
        let thread = Thread {
            nameCurrentThread(name)
            body()
        }
        thread.name = name
        return thread
    }
}

/// Names the calling thread in the kernel, cut to its 15 bytes at a character boundary
/// (the kernel would cut inside a character).
func nameCurrentThread(_ name: String) {
    var bytes: [UInt8] = []
    for character in name {
        let encoded = Array(String(character).utf8)
        guard bytes.count + encoded.count <= 15 else { break }
        bytes += encoded
    }
    bytes.append(0)
    bytes.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { _ = overcast_set_thread_name($0.baseAddress) }
    }
}
