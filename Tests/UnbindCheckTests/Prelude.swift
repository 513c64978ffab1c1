import Foundation

/// Minimal kernel declarations for the fixtures, written from the documented API: the one
/// copy is `Tests/Fixtures/kernel-prelude/include/linux/device.h`.
enum KernelPrelude {
    static let device: String = {
        let path = testsDirectory.appendingPathComponent("Fixtures/kernel-prelude/include/linux/device.h").path
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }()
}

/// A small provider core written from the facts of seed 002, with the use and teardown
/// bodies left open so that the examples and tests can vary the protection.
enum ProviderFixture {
    static let header = """
        struct widget_config { int (*reg_read)(void *priv, int off); void *priv; };
        struct widget_device { struct device dev; struct mutex lock; struct srcu_struct srcu; int exists;
                               int (*reg_read)(void *priv, int off); void *priv; struct completion done; };
        """
    static let plainUse = "\treturn w->reg_read(w->priv, off);\n"
    static let srcuUse = """
        \tint (*fn)(void *priv, int off);
        \tint idx, ret = -19;
        \tidx = srcu_read_lock(&w->srcu);
        \tfn = srcu_dereference(w->reg_read, &w->srcu);
        \tif (fn)
        \t\tret = fn(w->priv, off);
        \tsrcu_read_unlock(&w->srcu, idx);
        \treturn ret;

        """
    static let srcuTeardown = "\trcu_assign_pointer(w->reg_read, NULL);\n\tsynchronize_srcu(&w->srcu);\n"

    /// A get helper that takes `w->sem`, re-checks the callback under it and returns
    /// holding it (`static` or exported).
    static func tryGet(exported: Bool) -> String {
        """
        \(exported ? "" : "static ")int widget_try_get(struct widget_device *w)
        {
        \tdown_read(&w->sem);
        \tif (!w->reg_read)
        \t\tgoto out;
        \treturn 0;
        out:
        \tup_read(&w->sem);
        \treturn -19;
        }
        \(exported ? "EXPORT_SYMBOL(widget_try_get);\n" : "")
        """
    }

    /// How consumers get a reference: a lookup that hands the object out.
    static let lookup = """
        struct widget_device *widget_find(const char *name)
        {
        \tstruct widget_device *w = widget_lookup(name);
        \tget_device(&w->dev);
        \treturn w;
        }
        EXPORT_SYMBOL(widget_find);
        """

    /// The core; `marker` puts the group finding's marker on the unregister function;
    /// without `handsOut` consumers can only be drivers bound to the object.
    static func core(use: String, teardown: String, marker: Bool, handsOut: Bool = true) -> [String: String] {
        [
            "include/linux/device.h": KernelPrelude.device,
            "include/linux/widget.h": header,
            "drivers/widget/core.c": """
                #include <linux/device.h>
                #include <linux/widget.h>
                static void widget_release(struct device *dev)
                {
                \tkfree(container_of(dev, struct widget_device, dev));
                }
                struct widget_device *widget_register(const struct widget_config *config)
                {
                \tstruct widget_device *w;
                \tw = kzalloc(sizeof(*w), GFP_KERNEL);
                \tw->reg_read = config->reg_read;
                \tw->priv = config->priv;
                \tw->exists = 1;
                \tdevice_initialize(&w->dev);
                \tw->dev.release = widget_release;
                \tdevice_add(&w->dev);
                \treturn w;
                }
                EXPORT_SYMBOL(widget_register);
                void \(marker ? "/*!unrevoked-provider-ops*/" : "")widget_unregister(struct widget_device *w)
                {
                \(teardown)\tdevice_unregister(&w->dev);
                }
                EXPORT_SYMBOL(widget_unregister);
                static int widget_do_read(struct widget_device *w, int off)
                {
                \(use)}
                int widget_read(struct widget_device *w, int off)
                {
                \treturn widget_do_read(w, off);
                }
                EXPORT_SYMBOL(widget_read);
                \(handsOut ? lookup : "")
                """,
        ]
    }
}
