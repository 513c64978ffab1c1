import Facts
import Indexing
import Analysis
import Findings

/// How checks grade and explain a subsystem's protection for one devm-allocated object.
extension ProtectionVerdict {
    public var severity: Severity? {
        switch protection {
        case .revocation: return nil
        case .completion, .waitEvent: return .warning
        default: return .error
        }
    }

    func explanation(object: String) -> String {
        switch protection {
        case .none:
            return "\(object) has no release that outlives the driver (protection: none), so devres frees it at unbind while users may still hold a reference"
        case .emptyRelease:
            return "\(object)'s release does nothing (protection: empty-release), so devres frees the memory while references remain"
        case .releaseFrees:
            return "\(object)'s release frees the container too (protection: release-frees): devres and the release both free it"
        case .completion:
            return "unregistering \(object) waits for a completion until the last user is gone (protection: completion), so unbind blocks while userspace holds a reference"
        case .waitEvent:
            return "unregistering \(object) waits until users are gone (protection: wait-event), so unbind blocks while userspace holds a reference"
        case .revocation:
            return "\(object) revokes provider data on unregister"
        case .driverRelease:
            if let r = driverRelease {
                if r.devmFree { return "the driver's release \(r.name)() frees with devm_kfree, racing devres at unbind (protection: driver-release)" }
                if r.freesContainer { return "the driver's release \(r.name)() frees memory that devres frees too (protection: driver-release)" }
                if r.isEmpty { return "the driver's release \(r.name)() does nothing, so devres frees the memory while references remain (protection: driver-release)" }
                return "the driver's release \(r.name)() does not keep the memory alive past unbind (protection: driver-release)"
            }
            return "\(object) relies on the driver's release, and no release of this driver was found that keeps the memory past devres (protection: driver-release)"
        }
    }
}
