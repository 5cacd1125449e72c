import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// The engine's plain checks: started on its own sockets, advanced when the poll finds
/// their socket ready, timed out from the same deadline queue as libcurl's transfers.
extension CheckEngine {
    func startPlain(_ target: CheckTarget, _ endpoint: PlainEndpoint, tag: Int) -> CheckResult? {
        do {
            let check = try PlainCheck(target: target, endpoint: endpoint, tag: tag)
            check.index = plainChecks.count
            plainChecks.append(check)
            unarmed.append(check)
            return nil
        } catch {
            // Refused at once (a closed port on this host) or no socket: finished already.
            finishedCount += 1
            failedCount += 1
            return .failure(error.description)
        }
    }

    /// The connect stage's deadline, from the first pass after the start: the caller's
    /// time at the start is not the engine's, and reading the clock for each start would
    /// cost a trapped system call each under emulation.
    func armPlainChecks(at now: Double) {
        for check in unarmed where !check.isOver {
            check.backstop = now + Self.backstopFactor * check.target.connectTimeout
            setDeadline(check, now + check.target.connectTimeout)
        }
        unarmed.removeAll(keepingCapacity: true)
    }

    private func setDeadline(_ check: PlainCheck, _ time: Double) {
        let next = min(time, check.backstop)
        guard next != check.deadline else { return }
        check.deadline = next
        deadlines.queue.push(next, .plain(check))
    }

    /// Advances every plain check whose socket the poll found ready.
    func advancePlainChecks(into finished: inout [FinishedCheck]) {
        ready.removeAll(keepingCapacity: true)
        for (i, entry) in waitSet.enumerated() where entry.revents != 0 && i < plainChecks.count {
            ready.append(plainChecks[i])
        }
        for check in ready where !check.isOver {
            switch check.advance(scratch: scratch) {
            case .wait(let progressed):
                // The server did its part of a stage: a whole connect_timeout again for
                // the next, as keepalived re-arms its timer at each stage.
                if progressed { setDeadline(check, deadlines.passTime + check.target.connectTimeout) }
            case .finished(let result):
                end(check)
                finished.append(FinishedCheck(id: check.target.id, tag: check.tag, result: result))
            }
        }
    }

    /// A plain check's deadline passed before this pass began and its socket had nothing.
    func timeOut(_ check: PlainCheck, into finished: inout [FinishedCheck]) {
        if let result = check.silenceResult, check.deadline < check.backstop {
            end(check)
            finished.append(FinishedCheck(id: check.target.id, tag: check.tag, result: result))
            if !result.succeeded { timeouts += 1 }
            return
        }
        let reason = check.stage == .connecting
            ? "Timeout: no connection to \(check.endpoint.name) within connect_timeout (\(check.target.connectTimeout) s)"
            : check.deadline >= check.backstop
                ? "Timeout: the answer took over \(Self.backstopFactor) x connect_timeout (\(check.target.connectTimeout) s)"
                : Self.timeoutReason(check.target)
        end(check)
        finished.append(FinishedCheck(id: check.target.id, tag: check.tag, result: .failure(reason)))
        timeouts += 1
    }

    /// Closes a plain check and takes it out of the list (the last one takes its place).
    private func end(_ check: PlainCheck) {
        check.close()
        let index = check.index
        guard index < plainChecks.count, plainChecks[index] === check else { return }
        let last = plainChecks.removeLast()
        if last !== check {
            plainChecks[index] = last
            last.index = index
        }
    }
}
