import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What a lab test needs from the machine. A test on a machine without it may skip with
/// the printed reason; under CI (`CI=true`) a missing prerequisite is a failure, so a
/// CI run can never pass by skipping.
public enum Prerequisites {
    public static var isCI: Bool { TestGate.isCI }
    public static var isRoot: Bool { geteuid() == 0 }

    public static func commandExists(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]).contains {
            access("\($0)/\(name)", X_OK) == 0
        }
    }

    /// Whether python3 can import every module in `modules` (found, not imported). Python
    /// starts slowly in the emulated VM, and more slowly still on a loaded host: a generous
    /// timeout, so a slow start is not mistaken for a missing module.
    public static func pythonModulesExist(_ modules: [String]) -> Bool {
        guard commandExists("python3") else { return false }
        let probe = "import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)"
        return (try? ChildProcess.run(["python3", "-c", probe] + modules, timeout: 180).status) == 0
    }

    /// nil when everything is there; otherwise why not.
    public static func missing(root: Bool = true, commands: [String] = [], pythonModules: [String] = []) -> String? {
        var reasons: [String] = []
        if root && !isRoot { reasons.append("needs root") }
        let absent = commands.filter { !commandExists($0) }
        if !absent.isEmpty { reasons.append("needs \(absent.joined(separator: ", ")) (run scripts/setup.sh)") }
        if !pythonModules.isEmpty && !pythonModulesExist(pythonModules) {
            reasons.append("needs the Python modules \(pythonModules.joined(separator: ", ")) (run scripts/setup.sh)")
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// For `.enabled(if:)`: true when the test can run, or when it must run and fail
    /// because this is CI. Prints the reason when it skips.
    public static func available(root: Bool = true, commands: [String] = [], pythonModules: [String] = [], test: String) -> Bool {
        TestGate.enabled(missing: missing(root: root, commands: commands, pythonModules: pythonModules), test: test)
    }

    /// Throws the reason when something is missing: under CI this fails the test.
    public static func require(root: Bool = true, commands: [String] = [], pythonModules: [String] = []) throws {
        if let reason = missing(root: root, commands: commands, pythonModules: pythonModules) {
            throw ChildProcessError("missing prerequisite: \(reason)")
        }
    }
}
