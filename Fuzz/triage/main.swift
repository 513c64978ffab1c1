// libFuzzer entry: the crash-log parser of `triage` on arbitrary bytes. Built by scripts/fuzz.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTriage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let log = CrashLog(text: text)
    _ = log.frames.map(\.function).joined(separator: ",") + log.title + log.location
    return 0
}
