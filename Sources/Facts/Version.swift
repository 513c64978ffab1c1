/// The tool's name and version as reported in every output.
public enum UnbindCheckVersion {
    public static let name = "unbindcheck"
    public static let string = "0.1.0"
    /// Where the project is published. SARIF's `informationUri` and every rule's `helpUri`
    /// (`docs/checks.md#<check-id>` under it) are built from this one constant: change it here
    /// when the repository gets its public address (it has none yet, hence `.invalid`).
    public static let repositoryURL = "https://example.invalid/unbindcheck"
    /// The page of the repository that documents one check (`docs/checks.md`, one section per
    /// check id).
    public static func checkDocumentationURL(_ id: String) -> String { repositoryURL + "/docs/checks.md#" + id }
}
