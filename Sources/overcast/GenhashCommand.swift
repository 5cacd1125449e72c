import ArgumentParser
import Foundation
import HTTPClient
import HealthChecks

/// `overcast genhash --url URL`: the MD5 digest of a page, for HTTP_GET's `digest`
/// (keepalived's genhash).
struct Genhash: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the MD5 digest of a page's body, for HTTP_GET url { digest ... }.")

    @Option(help: "The page, e.g. http://172.31.8.1/index.html")
    var url: String

    @Option(help: "Host header to send (url { virtualhost }).")
    var virtualhost: String?

    @Option(help: "Timeout in seconds.")
    var timeout: Double = 5

    func run() throws {
        let response: HTTPResponse
        do {
            response = try CurlEasyRequest().get(url, timeoutMilliseconds: Int(timeout * 1000), host: virtualhost)
        } catch {
            FileHandle.standardError.write(Data("overcast genhash: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("MD5SUM = \(BodyDigest.md5Hex(response.body))")
        if !(200...299).contains(response.status) {
            FileHandle.standardError.write(Data("overcast genhash: note: HTTP status \(response.status)\n".utf8))
        }
    }
}
