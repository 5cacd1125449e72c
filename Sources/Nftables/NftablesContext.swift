import CNftables
import Foundation

/// nft's command language run through libnftables (the library behind the `nft`
/// command), in this process's network namespace. Output and errors are captured, so a
/// failed command reports nft's own message ("Error: No such file or directory ...").
/// One context serves one thread at a time; the lock makes it safe to share.
public final class NftablesContext: @unchecked Sendable {
    private let context: OpaquePointer
    private let lock = NSLock()

    public init() throws(NftablesError) {
        guard let context = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
            throw NftablesError(commands: "", message: "nft_ctx_new failed (out of memory?)")
        }
        guard nft_ctx_buffer_output(context) == 0, nft_ctx_buffer_error(context) == 0 else {
            nft_ctx_free(context)
            throw NftablesError(commands: "", message: "libnftables cannot buffer its output")
        }
        self.context = context
    }

    deinit { nft_ctx_free(context) }

    /// Runs `commands` (one or more lines, applied by the kernel as one transaction: all
    /// or nothing) and returns what nft printed (a `list` command's listing).
    @discardableResult
    public func run(_ commands: String) throws(NftablesError) -> String {
        lock.lock()
        defer { lock.unlock() }
        let status = nft_run_cmd_from_buffer(context, commands)
        let output = nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
        let errors = nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
        guard status == 0 else {
            throw NftablesError(commands: commands, message: errors.isEmpty ? "nft failed (status \(status))" : errors)
        }
        return output
    }
}

/// A command nft refused, with its message and the commands that were sent.
public struct NftablesError: Error, CustomStringConvertible {
    public var commands: String
    public var message: String
    public var description: String {
        message.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
