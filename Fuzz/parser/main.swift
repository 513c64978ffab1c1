// libFuzzer entry: lexer and parser on arbitrary bytes. Built by scripts/fuzz.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let facts = FrontEnd.parse(path: "fuzz.c", bytes: UnsafeBufferPointer(start: data, count: size))
    // Touch the results so nothing is optimised away, and render what the reporters render.
    for fn in facts.functions { for c in fn.calls { _ = fn.exprs.render(c.node) } }
    return 0
}
