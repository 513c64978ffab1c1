import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis

/// What a call of a single-call macro stands for (`Resolver.macroExpansion`, read by
/// `FunctionView.effectiveCalls`): the callee through up to three levels, each argument
/// mapped back to the macro call's, and the definition the calling file sees.
@Suite struct MacroExpansionTests {
    static let tree: [String: String] = [
        "include/linux/device.h": KernelPrelude.device,
        // Two levels: `pub2(n, d)` → `pub1(d, n)` → `device_add(d)`; the constant and the
        // swapped parameters must map back to the outer call's arguments.
        "include/linux/pub.h": """
            #define pub1(x, unused) device_add(x)
            #define pub2(n, d) pub1(d, n)
            #define pub3(a, b, c) pub2(c, a)
            """,
        // The same macro name defined twice, each driver seeing its own header.
        "drivers/a/a.h": "#define drv_put(p) put_device(p)\n",
        "drivers/b/b.h": "#define drv_put(p) device_del(p)\n",
        "drivers/a/a.c": """
            #include <linux/device.h>
            #include <linux/pub.h>
            #include "a.h"
            struct a { struct device dev; };
            static int a_add(struct a *p, int n) { return pub2(n, &p->dev); }
            static int a_add3(struct a *p) { return pub3(&p->dev, 0, 7); }
            static void a_put(struct a *p) { drv_put(&p->dev); }
            """,
        "drivers/b/b.c": """
            #include <linux/device.h>
            #include "b.h"
            struct b { struct device dev; };
            static void b_put(struct b *p) { drv_put(&p->dev); }
            """,
    ]

    func calls(_ name: String, _ ctx: AnalysisContext) throws -> (FunctionView, [EffectiveCall]) {
        let id = try #require(ctx.index.functionsByName[name]?.first)
        let view = FunctionView(id: id, resolver: ctx.resolver)
        return (view, view.effectiveCalls())
    }

    @Test func argumentsFollowTheParametersThroughTwoLevels() throws {
        let ctx = analyse(Self.tree)
        let (view, calls) = try calls("a_add", ctx)
        let call = try #require(calls.first)
        #expect(call.callee == "device_add")
        #expect(call.writtenAs == "pub2")
        // `device_add(x)`: x is pub1's first parameter, given pub2's second, `&p->dev`.
        #expect(call.args.count == 1)
        #expect(view.exprs.render(call.args[0]) == "&p->dev")
        #expect(view.accessPath(call.args[0])?.fields == ["dev"])
    }

    @Test func threeLevelsAndAMissingArgument() throws {
        let ctx = analyse(Self.tree)
        let (view, calls) = try calls("a_add3", ctx)
        let call = try #require(calls.first)
        #expect(call.callee == "device_add")
        #expect(view.exprs.render(call.args[0]) == "&p->dev")
        // pub3(a, b, c) → pub2(c, a) → pub1(a, c) → device_add(a).
        let expansion = try #require(ctx.resolver.macroExpansion(of: "pub3", from: view.file))
        #expect(expansion.callee == "device_add")
        #expect(expansion.argumentOf == [0])
        // An argument the macro call does not have maps to no node.
        #expect(expansion.arguments([]) == [-1])
    }

    @Test func eachFileExpandsTheDefinitionItSees() throws {
        let ctx = analyse(Self.tree)
        let (_, aCalls) = try calls("a_put", ctx)
        let (_, bCalls) = try calls("b_put", ctx)
        #expect(aCalls.map(\.callee) == ["put_device"])
        #expect(bCalls.map(\.callee) == ["device_del"])
        // Asked again from the first file after the second: still its own definition.
        let (_, again) = try calls("a_put", ctx)
        #expect(again.map(\.callee) == ["put_device"])
    }

    @Test func aNameThatIsNoMacroIsNotExpanded() throws {
        let ctx = analyse(Self.tree)
        let id = try #require(ctx.index.functionsByName["a_add"]?.first)
        #expect(ctx.resolver.macroExpansion(of: "no_such_macro", from: id.file) == nil)
        #expect(ctx.resolver.macroExpansion(of: "pub1", from: id.file)?.argumentOf == [0])
    }
}
