import Testing
import VRRP

/// A sync group's own state and notifies (keepalived's vrrp_sync.c): decided from its
/// members' states alone.
@Suite struct SyncGroupCoreTests {
    static let notify = NotifyScripts(master: "/g/master.sh", backup: "/g/backup.sh", fault: "/g/fault.sh",
                                      stop: "/g/stop.sh", any: "/g/notify.sh")

    static func group() -> SyncGroupCore {
        SyncGroupCore(configuration: .init(name: "G", members: ["web", "db"], notify: notify))
    }

    @Test func theGroupIsBackupOnItsFirstBackupMemberAndMasterOnlyWhenAllAre() throws {
        var g = Self.group()
        let backupMove = g.memberMoved("web", to: .backup)
        let backup = try #require(backupMove)
        #expect(backup.to == .backup && g.state == .backup)
        #expect(backup.calls == [NotifyCall(command: "/g/backup.sh"),
                                 NotifyCall(command: "/g/notify.sh", arguments: ["GROUP", "G", "BACKUP", "0"])])
        #expect(backup.line.description == "GROUP \"G\" BACKUP 0")
        #expect(g.memberMoved("db", to: .backup) == nil)            // already BACKUP: no second notify
        #expect(g.memberMoved("web", to: .master) == nil)           // one member MASTER: still BACKUP
        let masterMove = g.memberMoved("db", to: .master)
        let master = try #require(masterMove)
        #expect(master.from == .backup && master.to == .master)
        #expect(master.calls.map(\.description) == ["/g/master.sh", "/g/notify.sh GROUP G MASTER 0"])
        #expect(master.line.description == "GROUP \"G\" MASTER 0")
    }

    @Test func oneMemberInFaultIsTheGroupsFaultAndAllStoppedIsStop() throws {
        var g = Self.group()
        _ = g.memberMoved("web", to: .master)
        _ = g.memberMoved("db", to: .master)
        #expect(g.state == .master)
        let faultMove = g.memberMoved("db", to: .fault)
        let fault = try #require(faultMove)
        #expect(fault.calls.map(\.description) == ["/g/fault.sh", "/g/notify.sh GROUP G FAULT 0"])
        #expect(g.memberMoved("web", to: .fault) == nil)
        #expect(g.memberMoved("web", to: .backup) == nil)           // db still in FAULT
        #expect(g.memberMoved("db", to: .backup)?.to == .backup)
        #expect(g.memberMoved("web", to: .initialize) == nil)       // one stopped: nothing yet
        let stopMove = g.memberMoved("db", to: .initialize)
        let stop = try #require(stopMove)
        #expect(stop.calls.map(\.description) == ["/g/stop.sh", "/g/notify.sh GROUP G STOP 0"])
        #expect(stop.line.description == "GROUP \"G\" STOP 0")
        #expect(g.memberMoved("other", to: .fault) == nil)          // not a member
    }

    @Test func eachScriptRunsAsItsOwnUser() {
        var notify = Self.notify
        notify.runAs = ["/g/master.sh": ScriptIdentity(user: "nobody", group: "nogroup")]
        var g = SyncGroupCore(configuration: .init(name: "G", members: ["web"], notify: notify))
        let calls = g.memberMoved("web", to: .master)?.calls ?? []
        #expect(calls.map(\.user) == ["nobody", nil] && calls.first?.group == "nogroup")
    }

    @Test func aReloadKeepsTheKnownStatesOfMembersThatStay() {
        var g = Self.group()
        _ = g.memberMoved("web", to: .master)
        _ = g.memberMoved("db", to: .backup)
        g.reconfigure(.init(name: "G", members: ["web"], notify: Self.notify))
        #expect(g.state == .backup)
        #expect(g.memberMoved("web", to: .master)?.to == .master)  // db left: web alone makes it MASTER
    }
}
