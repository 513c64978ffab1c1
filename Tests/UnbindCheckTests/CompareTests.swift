import Testing
@testable import Findings

/// `compare` pairs a finding that moved to another function or file with its old self when
/// it is the only unmatched one about its object on each side.
@Suite struct CompareTests {
    static func finding(_ file: String, _ function: String, object: String, message: String = "callbacks are not revoked") -> ComparedFinding {
        ComparedFinding(Finding(check: "unrevoked-provider-ops", severity: .error, file: file, line: 10, column: 1,
                                function: function, object: object, message: message))
    }

    @Test func anObjectsOnlyFindingThatMovedPersists() {
        let old = [Self.finding("drivers/usb/typec/retimer.c", "typec_retimer_put", object: "typec_retimer")]
        let new = [Self.finding("drivers/usb/typec/class.c", "typec_port_register_altmodes", object: "typec_retimer")]
        let c = Comparison(old: old, new: new)
        #expect(c.fixed.isEmpty && c.introduced.isEmpty)
        #expect(c.persisting.map { "\($0.old.function) → \($0.new.function)" } == ["typec_retimer_put → typec_port_register_altmodes"])
    }

    @Test func severalFindingsOfOneObjectAreNotPairedByGuess() {
        let old = [Self.finding("a.c", "f", object: "mux"), Self.finding("b.c", "g", object: "mux")]
        let new = [Self.finding("c.c", "h", object: "mux")]
        let c = Comparison(old: old, new: new)
        #expect(c.persisting.isEmpty)
        #expect(c.fixed.count == 2 && c.introduced.count == 1)
        // Findings about no object never pair this way.
        let bare = Comparison(old: [Self.finding("a.c", "f", object: "")], new: [Self.finding("c.c", "h", object: "")])
        #expect(bare.persisting.isEmpty && bare.fixed.count == 1 && bare.introduced.count == 1)
    }
}
