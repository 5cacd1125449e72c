import Foundation
import Testing
@testable import EC2

/// The credential chain's order, the shared file's syntax, IMDS role documents, renewal
/// before expiry, and that no secret is ever printed.
@Suite struct CredentialTests {
    @Test func sharedFileProfilesCommentsAndErrorsWithLines() throws {
        let text = """
        # keys
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = s3cret
        ; another
        [profile lb]
        aws_access_key_id=AKIDLB
        aws_secret_access_key=lbsecret
        aws_session_token = tok
        """
        let lb = try #require(try SharedCredentialsFile.credentials(text, path: "/c", profile: "lb"))
        #expect(lb.accessKeyID == "AKIDLB" && lb.secretAccessKey == "lbsecret" && lb.sessionToken == "tok")
        #expect(lb.source == "/c [lb]")
        #expect(try SharedCredentialsFile.credentials(text, path: "/c", profile: "default")?.accessKeyID == "AKIDDEFAULT")
        #expect(try SharedCredentialsFile.credentials(text, path: "/c", profile: "nope") == nil)
        #expect(throws: SharedCredentialsFile.ParseError(path: "/c", line: 2, message: "expected 'key = value'")) {
            try SharedCredentialsFile.parse("[a]\njunk", path: "/c")
        }
        #expect(throws: SharedCredentialsFile.ParseError(path: "/c", line: 1, message: "a setting before any [profile] section")) {
            try SharedCredentialsFile.parse("k = v", path: "/c")
        }
        #expect(throws: SharedCredentialsFile.ParseError.self) { try SharedCredentialsFile.credentials("[x]\naws_access_key_id=A", path: "/c", profile: "x") }
    }

    @Test func environmentComesFirstThenTheFileAndHalfAKeyIsAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ovc-creds-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/credentials"
        try "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=f\n[other]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=o\n"
            .write(toFile: file, atomically: true, encoding: .utf8)

        let env = CredentialChain(environment: ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "e", "AWS_SESSION_TOKEN": "t",
                                                "AWS_SHARED_CREDENTIALS_FILE": file], metadata: nil)
        let fromEnv = try env.current()
        #expect(fromEnv.accessKeyID == "AKIDENV" && fromEnv.sessionToken == "t" && fromEnv.source == "environment")

        let fromFile = try CredentialChain(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "other"], metadata: nil).current()
        #expect(fromFile.accessKeyID == "AKIDOTHER")
        #expect(try CredentialChain(environment: ["AWS_SHARED_CREDENTIALS_FILE": file], metadata: nil).current().accessKeyID == "AKIDFILE")

        #expect(throws: EC2Failure.self) { try CredentialChain(environment: ["AWS_ACCESS_KEY_ID": "A"], metadata: nil).current() }
        #expect(throws: EC2Failure.self) {
            try CredentialChain(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "missing"], metadata: nil).current()
        }
        do {
            _ = try CredentialChain(environment: ["AWS_SHARED_CREDENTIALS_FILE": directory + "/none"], metadata: nil).current()
            Issue.record("credentials out of nowhere")
        } catch {
            #expect(error.description.contains("no AWS credentials"), "\(error)")
        }
    }

    @Test func roleDocumentsDecodeAndBadOnesSayWhy() throws {
        let good = #"{"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"sk","Token":"tk","Expiration":"2026-11-28T14:00:00Z"}"#
        let creds = try RoleCredentialsDocument.decode(Array(good.utf8), role: "lb")
        #expect(creds.sessionToken == "tk" && creds.source == "instance role lb")
        #expect(creds.expiration == ISO8601DateFormatter().date(from: "2026-11-28T14:00:00Z"))
        #expect(throws: EC2Failure.self) { try RoleCredentialsDocument.decode(Array("{".utf8), role: "lb") }
        #expect(throws: EC2Failure.self) {
            try RoleCredentialsDocument.decode(Array(#"{"Code":"Failure","AccessKeyId":"","SecretAccessKey":""}"#.utf8), role: "lb")
        }
        #expect(throws: EC2Failure.self) {
            try RoleCredentialsDocument.decode(Array(#"{"AccessKeyId":"a","SecretAccessKey":"b","Expiration":"soon"}"#.utf8), role: "lb")
        }
    }

    @Test func temporaryCredentialsAreRenewedWellBeforeExpiry() {
        let issued = Date(timeIntervalSince1970: 1_000_000)
        let hour = AWSCredentials(accessKeyID: "A", secretAccessKey: "s", expiration: issued.addingTimeInterval(3600), source: "t")
        #expect(!hour.needsRefresh(now: issued.addingTimeInterval(3299), issued: issued))
        #expect(hour.needsRefresh(now: issued.addingTimeInterval(3300), issued: issued))
        let short = AWSCredentials(accessKeyID: "A", secretAccessKey: "s", expiration: issued.addingTimeInterval(10), source: "t")
        #expect(!short.needsRefresh(now: issued.addingTimeInterval(4.9), issued: issued))
        #expect(short.needsRefresh(now: issued.addingTimeInterval(5), issued: issued))
        let longTerm = AWSCredentials(accessKeyID: "A", secretAccessKey: "s", source: "t")
        #expect(!longTerm.needsRefresh(now: .distantFuture, issued: issued))
    }

    @Test func descriptionsNeverShowSecrets() {
        let creds = AWSCredentials(accessKeyID: "AKIDEXAMPLE1234", secretAccessKey: "wJalrXUtnFEMI", sessionToken: "FQoGZXIvYXdzE",
                                   source: "environment")
        let text = "\(creds) \(String(describing: creds)) \(String(reflecting: creds))"
        #expect(!text.contains("wJalrXUtnFEMI") && !text.contains("FQoGZXIvYXdzE") && !text.contains("AKIDEXAMPLE"))
        #expect(text.contains("****1234"))
    }
}
