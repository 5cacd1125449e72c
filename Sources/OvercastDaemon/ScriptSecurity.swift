import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// keepalived's `enable_script_security`, judged for the account a script runs as.
///
/// A script that runs as root (user or group 0, or a set-uid/set-gid root file) is
/// refused when a non-root user could change it: the file, or a directory above it, owned
/// by someone other than root, or writable by a group other than root's or by anyone (a
/// directory with the sticky bit excepted), along the path as given and along the path
/// its symbolic links resolve to. A script that runs as another user can only do what
/// that user can, so its path is not judged; it must exist and be executable by that
/// user. This is keepalived's rule (check_script_secure).
enum ScriptSecurity {
    /// Why `path` may not run as `uid`:`gid`, or nil when it may.
    static func problem(_ path: String, uid: uid_t, gid: gid_t) -> String? {
        guard path.hasPrefix("/") else { return "script \(path) is not an absolute path (enable_script_security)" }
        var info = stat()
        guard stat(path, &info) == 0 else { return "script \(path): \(path) does not exist" }
        guard isExecutable(info, uid: uid, gid: gid) else {
            return "script \(path) is not executable by uid \(uid) gid \(gid) (enable_script_security)"
        }
        let setRoot = (info.st_uid == 0 && info.st_mode & S_ISUID != 0) || (info.st_gid == 0 && info.st_mode & S_ISGID != 0)
        guard uid == 0 || gid == 0 || setRoot else { return nil }
        if let problem = writableByOthers(path, as: path) { return problem }
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            let real = String(cString: resolved)
            if real != path, let problem = writableByOthers(real, as: path) { return problem }
        }
        return nil
    }

    /// The first component of `path` (itself, then each directory up to /) that a
    /// non-root user could change.
    private static func writableByOthers(_ path: String, as given: String) -> String? {
        var current = path
        while true {
            var info = stat()
            guard lstat(current, &info) == 0 else { return "script \(given): \(current) does not exist" }
            let isLink = info.st_mode & S_IFMT == S_IFLNK
            if info.st_uid != 0 { return "script \(given): \(current) is not owned by root (enable_script_security)" }
            let sticky = info.st_mode & S_IFMT == S_IFDIR && info.st_mode & S_ISVTX != 0
            let groupWrites = info.st_gid != 0 && info.st_mode & S_IWGRP != 0
            if !isLink && !sticky && (groupWrites || info.st_mode & S_IWOTH != 0) {
                return "script \(given): \(current) is writable by non-root users (enable_script_security)"
            }
            if current == "/" { return nil }
            current = (current as NSString).deletingLastPathComponent
            if current.isEmpty { current = "/" }
        }
    }

    /// keepalived's is_executable: root needs any execute bit; another user the owner's,
    /// the group's or the others' bit, whichever class it falls in.
    static func isExecutable(_ info: stat, uid: uid_t, gid: gid_t) -> Bool {
        guard info.st_mode & S_IFMT == S_IFREG else { return false }
        if uid == 0 { return info.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0 }
        if info.st_uid == uid { return info.st_mode & S_IXUSR != 0 }
        if info.st_gid == gid { return info.st_mode & S_IXGRP != 0 }
        return info.st_mode & S_IXOTH != 0
    }
}
