import PCRE

/// The blocks inside a `real_server`: the health checkers and HTTP_GET's `url`.
extension VirtualServerKeywords {
    static let checkerSchema: Schema<HealthChecker> = {
        var s = Schema<HealthChecker>("HTTP_GET, SSL_GET, TCP_CHECK, MISC_CHECK")
        s.block("url") { c, st, r in
            var url = HTTPURL()
            urlSchema.apply(st.block ?? [], to: &url, &r)
            checkRegex(url, st, &r)
            c.urls.append(url)
        }
        connectionOptions(&s)
        s.value("virtualhost") { c, st, r in c.virtualhost = r.string(st) }
        s.value("misc_path") { c, st, r in c.miscPath = r.command(st) }
        s.value("misc_timeout") { c, st, r in c.miscTimeout = r.seconds(st, 0.001...86400) }
        s.value("misc_dynamic") { c, st, r in c.miscDynamic = r.flag(st) }
        s.value("user") { c, st, r in
            guard let args = r.arguments(st, 1...2) else { return }
            c.user = args[0].text
            c.group = args.count > 1 ? args[1].text : nil
        }
        s.ignore(["http_protocol", "enable_sni", "tls_compliant", "dynamic"], "a checker option with no Overcast equivalent yet")
        return s
    }()

    /// The options every checker takes (keepalived's `install_checker_common_keywords`):
    /// where to connect and from where, the timeout, and the retry policy.
    static func connectionOptions(_ s: inout Schema<HealthChecker>) {
        s.value("connect_ip") { c, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if isAddress(token.text) { c.connectIP = token.text } else { r.error(token.location, "connect_ip: '\(token.text)' is not an address") }
        }
        s.value("connect_port") { c, st, r in c.connectPort = r.int(st, 1...65535) }
        s.value("bindto") { c, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if isAddress(token.text) { c.bindTo = token.text } else { r.error(token.location, "bindto: '\(token.text)' is not an address") }
        }
        s.value("connect_timeout") { c, st, r in c.connectTimeout = r.seconds(st, 0.001...3600) }
        s.value("retry", "nb_get_retry") { c, st, r in c.retry = r.int(st, 0...1_000_000) }
        s.value("delay_before_retry") { c, st, r in c.delayBeforeRetry = r.seconds(st, 0...86400) }
        s.value("delay_loop") { c, st, r in c.delayLoop = r.seconds(st, 0.001...86400) }
        s.value("warmup") { c, st, r in c.warmup = r.seconds(st, 0...86400) }
        s.value("bind_port") { c, st, r in c.bindPort = r.int(st, 1...65535) }
        s.value("bind_if") { c, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            // IFNAMSIZ less the terminating NUL, as keepalived checks.
            if token.text.utf8.count <= 15 && !token.text.contains("/") { c.bindInterface = token.text } else {
                r.error(token.location, "bind_if: '\(token.text)' is not an interface name (at most 15 characters, no '/')")
            }
        }
        s.value("fwmark") { c, st, r in c.fwmark = r.int(st, 0...Int(UInt32.max)) }
        s.value("alpha") { c, st, r in c.alpha = r.flag(st) }
        s.ignore(["log_all_failures", "fast_recovery"], "a checker option with no Overcast equivalent yet")
    }

    static let urlSchema: Schema<HTTPURL> = {
        var s = Schema<HTTPURL>("url")
        s.value("path") { u, st, r in u.path = r.string(st) ?? u.path }
        s.value("digest") { u, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            let hex = token.text.lowercased()
            if hex.count == 32 && hex.allSatisfy(\.isHexDigit) { u.digest = hex } else {
                r.error(token.location, "digest: '\(token.text)' is not an MD5 digest (32 hex digits; see overcast genhash)")
            }
        }
        s.value("status_code") { u, st, r in
            guard let args = r.arguments(st, 1...Int.max) else { return }
            for token in args {
                let bounds = token.text.split(separator: "-", maxSplits: 1).map(String.init)
                if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), (100...599).contains(low),
                   (low...599).contains(high) {
                    u.statusCodes += Array(low...high)
                } else if let code = r.int(token, 100...599, what: "status_code") {
                    u.statusCodes.append(code)
                }
            }
        }
        s.value("virtualhost") { u, st, r in u.virtualhost = r.string(st) }
        s.value("regex") { u, st, r in u.regex = r.string(st) }
        s.value("regex_no_match") { u, st, r in u.regexNoMatch = r.flag(st) }
        s.value("regex_options") { u, st, r in
            guard let words = r.arguments(st, 1...Int.max) else { return }
            for word in words {
                if RegexPattern.optionBits[word.text] != nil { u.regexOptions.append(word.text) } else {
                    r.error(word.location, "regex_options: '\(word.text)' is not one of \(RegexPattern.optionBits.keys.sorted().joined(separator: ", "))")
                }
            }
        }
        s.ignore(["regex_stack"], "PCRE2's JIT stack: Overcast matches without the JIT, so there is no stack to size")
        s.ignore(["regex_min_offset", "regex_max_offset"],
                 "not implemented: the whole body is matched; anchor the pattern or match a prefix with regex instead")
        return s
    }()

    /// A url's regex compiles, as the checker will compile it; an error points at the
    /// `regex` statement with PCRE2's message and the offset in the pattern.
    static func checkRegex(_ url: HTTPURL, _ st: Statement, _ r: inout ValueReader) {
        let statement = st.block?.last { $0.keyword.text == "regex" }
        guard let pattern = url.regex else {
            if url.regexNoMatch || !url.regexOptions.isEmpty { r.warning(st.location, "regex_no_match or regex_options without a regex has no effect") }
            return
        }
        do {
            _ = try RegexPattern(pattern, options: url.regexOptions)
        } catch {
            let at = statement.flatMap { $0.arguments.first?.location } ?? st.location
            r.error(at, "regex: '\(pattern)' does not compile at offset \(error.offset): \(error.message)")
        }
    }
}
