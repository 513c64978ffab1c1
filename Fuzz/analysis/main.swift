// libFuzzer entry: the whole pipeline on a tree of up to three files cut from the input at
// NUL bytes (a header and two sources), with every check and reporter. Built by scripts/fuzz.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnalysis(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let names = ["include/linux/fuzz.h", "drivers/fuzz/a.c", "drivers/fuzz/b.c"]
    var files: [FileFacts] = []
    var start = 0
    for k in 0...size where files.count < names.count && (k == size || bytes[k] == 0) {
        files.append(FrontEnd.parse(path: names[files.count], bytes: UnsafeBufferPointer(rebasing: bytes[start..<k])))
        start = k + 1
    }
    let ctx = AnalysisContext(index: TreeIndex(root: "fuzz", files: files.sorted { $0.path < $1.path }))
    let findings = Analyzer.findings(ctx)
    let stats = ScanStats(index: ctx.index, context: ctx, seconds: 0)
    let report = Report(root: "fuzz", findings: findings, stats: stats, suppressed: 0, includeTimings: false)
    for r in [TextReporter() as any Reporter, JSONReporter(), SARIFReporter(), HTMLReporter()] { _ = r.render(report) }
    _ = Listings.subsystemsJSON(Listings.subsystems(ctx), ctx: ctx)
    _ = Listings.structsJSON(Listings.structs(ctx), root: "fuzz")
    return 0
}
