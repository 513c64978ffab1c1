/// The tool's name and version as reported in every output.
public enum UnbindCheckVersion {
    public static let name = "unbindcheck"
    public static let string = "0.1.0"
}
