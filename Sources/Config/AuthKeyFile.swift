import Foundation

/// `auth_key_file` of `auth_type HMAC_SHA256`: the shared key, read from a file that
/// only its owner can read. Checked when the configuration is read (errors at the
/// keyword's file:line) and read again by the daemon when it builds the instance; the
/// key itself is never part of the configuration model, so no dump or log can show it.
public enum AuthKeyFile {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static let minimumLength = 16

    /// The key: the file's bytes without a trailing newline.
    public static func read(_ path: String) throws(Failure) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Failure(description: "auth_key_file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "auth_key_file \(path) is not a regular file")
        }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw Failure(description: "auth_key_file \(path) belongs to uid \(info.st_uid), not root: refused (chown root)")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw Failure(description: "auth_key_file \(path) has mode \(String(mode, radix: 8)); others than its owner can read or "
                          + "change it: refused (chmod 600)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "auth_key_file \(path): cannot be read")
        }
        var key = [UInt8](data)
        while let last = key.last, last == 0x0A || last == 0x0D { key.removeLast() }
        guard key.count >= minimumLength else {
            throw Failure(description: "auth_key_file \(path) holds \(key.count) bytes; a key needs at least \(minimumLength)"
                          + " (e.g. head -c 32 /dev/urandom | base64 > \(path))")
        }
        return key
    }

    /// A relative path is relative to the directory of the file that names it.
    public static func resolve(_ path: String, relativeTo file: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        return ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
    }
}
