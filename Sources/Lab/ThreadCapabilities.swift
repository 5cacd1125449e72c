import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// CAP_NET_RAW's number (linux/capability.h).
public let capabilityNetRaw: Int32 = 13

/// Drops `capability` from the calling thread, and only it: for a body run by
/// `inNetworkNamespace`, which has a thread of its own, so the test process keeps its
/// capabilities. Throws with errno when the kernel refuses.
public func dropThreadCapability(_ capability: Int32) throws {
    guard overcast_drop_thread_capability(capability) == 0 else {
        throw ChildProcessError("capset without capability \(capability): \(String(cString: strerror(errno)))")
    }
}
