// libFuzzer entry for the `analysis` target; the body lives in FuzzHarness so that the unit
// tests replay the committed corpora through the same code. Built by scripts/fuzz.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = FuzzHarness.analysis(UnsafeBufferPointer(start: data, count: size))
    return 0
}
