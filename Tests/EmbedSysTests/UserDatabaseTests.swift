import Testing
@testable import EmbedSys

@Suite struct UserDatabaseTests {
    @Test func userDatabase() {
        #expect(UserDatabase.groupID(named: "root") == 0)
        #expect(UserDatabase.groupID(named: "no-such-group-embedd") == nil)
        #expect(UserDatabase.user(id: 0)?.name == "root")
        #expect(UserDatabase.isMember(uid: 0, gid: 0, of: 0))
        if let nogroup = UserDatabase.groupID(named: "nogroup"), let nobody = UserDatabase.user(id: 65534) {
            #expect(!UserDatabase.isMember(uid: 65534, gid: nobody.gid, of: 0))
            #expect(UserDatabase.isMember(uid: 65534, gid: nogroup, of: nogroup))
        }
    }
}
