import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `missing-release`: a class, type or release set through a local that stands for the
/// device (`dev = &w->dev; dev->class = &c`), in the function that allocates the object,
/// is the object's, as when it is set on `w->dev` directly.
@Suite struct ReleaseAliasTests {
    /// `setRelease`: the statement that gives the device its release, through `dev`, in
    /// the function of one file that creates the object; another file registers it.
    static func widget(_ setRelease: String, declaring local: String = "struct device *dev;") -> [String: String] {
        [
            "drivers/misc/widget.h": """
                struct widget { int id; struct device dev; };
                struct widget *widget_create(void);
                """,
            "drivers/misc/widget-sysfs.c": """
                #include <linux/device.h>
                #include "widget.h"
                struct class { const char *name; void (*dev_release)(struct device *dev); };
                static void widget_release(struct device *dev) { kfree(container_of(dev, struct widget, dev)); }
                static struct class widget_class = { .name = "widget", .dev_release = widget_release };
                struct widget *widget_create(void)
                {
                        struct widget *w = kzalloc(sizeof(*w), 0);
                        \(local)
                        if (!w)
                                return 0;
                        dev = &w->dev;
                        device_initialize(dev);
                        \(setRelease)
                        return w;
                }
                """,
            "drivers/misc/widget-load.c": """
                #include <linux/device.h>
                #include "widget.h"
                static int widget_load(struct widget *w)
                {
                        struct device *f_dev = &w->dev;
                        return device_add(f_dev);
                }
                int widget_request(void)
                {
                        struct widget *w = widget_create();
                        if (!w)
                                return -12;
                        return widget_load(w);
                }
                """,
        ]
    }

    func run(_ files: [String: String]) -> [Finding] {
        findings(of: "missing-release", in: files)
    }

    @Test func aClassSetThroughTheDevicesAliasIsTheObjectsRelease() {
        #expect(run(Self.widget("dev->class = &widget_class;")).isEmpty)
        #expect(run(Self.widget("dev->release = widget_release;")).isEmpty)
    }

    /// A local declared `= NULL` and then given the device is still its alias; a local
    /// given two different devices is none, so the registration keeps its warning.
    @Test func aNullInitializerDoesNotEndTheAlias() {
        #expect(run(Self.widget("dev->class = &widget_class;", declaring: "struct device *dev = NULL;")).isEmpty)
        #expect(run(Self.widget("dev->release = widget_release;", declaring: "struct device *dev = NULL;")).isEmpty)
        let unset = run(Self.widget("", declaring: "struct device *dev = NULL;"))
        #expect(unset.map { "\($0.file):\($0.line) \($0.severity)" } == ["drivers/misc/widget-load.c:6 warning"])
        let other = run(Self.widget("dev = &w->dev; dev->class = &widget_class;", declaring: "struct device *dev = &w[1].dev;"))
        #expect(other.count == 1)
    }

    /// A `device_type` or class whose initializer names no release gives the device none,
    /// whether it is set where the device is registered or in the function creating it.
    @Test func aTypeWithoutAReleaseGivesTheDeviceNone() {
        let types = """
            static const struct device_type bare_type = { .name = "bare" };
            static const struct device_type full_type = { .name = "full", .release = widget_release };
            static struct class bare_class = { .name = "bare" };
            """
        func files(_ set: String) -> [String: String] {
            var f = Self.widget(set)
            f["drivers/misc/widget-sysfs.c"] = f["drivers/misc/widget-sysfs.c"]!.replacingOccurrences(
                of: "struct widget *widget_create(void)\n{", with: types + "\nstruct widget *widget_create(void)\n{")
            return f
        }
        #expect(run(files("dev->type = &full_type;")).isEmpty)
        #expect(run(files("dev->type = &bare_type;")).map { "\($0.file):\($0.line)" } == ["drivers/misc/widget-load.c:6"])
        #expect(run(files("dev->class = &bare_class;")).map { "\($0.file):\($0.line)" } == ["drivers/misc/widget-load.c:6"])
        #expect(run(files("dev->class = &bare_class; dev->type = &full_type;")).isEmpty)
        // A type set in the registering function itself.
        var here = files("")
        here["drivers/misc/widget-load.c"] = here["drivers/misc/widget-load.c"]!.replacingOccurrences(
            of: "return device_add(f_dev);", with: "w->dev.type = &bare_type;\n        return device_add(f_dev);")
        here["drivers/misc/widget-load.c"] = "static const struct device_type bare_type = { .name = \"bare\" };\n" + here["drivers/misc/widget-load.c"]!
        #expect(run(here).map { "\($0.file):\($0.line)" } == ["drivers/misc/widget-load.c:8"])
    }

    /// What the subsystem pass learns from `dev->class = &c` and `dev->release = f` when
    /// `dev` stands for `&w->dev`: the widget's device gets a release from outside.
    @Test func anAssignmentThroughTheAliasNamesTheContainersType() {
        for (set, release) in [("dev->class = &widget_class;", false), ("dev->release = widget_release;", true), ("", false)] {
            var files = Self.widget(set)
            files["include/linux/device.h"] = deviceHeader
            let ctx = analyse(files)
            let widget = ctx.index.aggregatesByName["widget"]?.first
            #expect(widget != nil)
            guard let widget else { continue }
            #expect(ctx.subsystems.releaseMentioned.contains(widget) == !set.isEmpty, "\(set)")
            #expect(ctx.subsystems.driverReleases[widget]?.map(\.evidence.message) == (release ? ["widget_create sets dev->release = widget_release"] : nil), "\(set)")
        }
    }

    @Test func withoutItTheRegistrationHasNoRelease() {
        let f = run(Self.widget(""))
        #expect(f.map(\.severity) == [.warning])
        #expect(f.map(\.file) == ["drivers/misc/widget-load.c"])
        #expect(f.map(\.line) == [6])
        #expect(f.first?.message == "device_add() registers the struct device embedded in 'struct widget' (dev) but no release callback is set for it (dev.release, device_type or class)")
    }
}
