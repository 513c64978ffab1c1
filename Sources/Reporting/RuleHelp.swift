import Facts
import Indexing
import Analysis
import Findings
import Checks

/// Help for one check, as code-scanning UIs show it: why it matters, how to fix it, and a
/// minimal example (wrong, then right). `docs/checks.md` has the same sections; a test keeps
/// the two in step.
struct RuleHelp: Sendable {
    public var id: String
    public var fix: String
    public var wrong: String
    public var right: String

    /// The help of check `id` (an empty one for an unknown id).
    public static func of(_ id: String) -> RuleHelp {
        all.first { $0.id == id } ?? RuleHelp(id: id, fix: "", wrong: "", right: "")
    }

    /// Plain-text help: the rationale, the fix, the example.
    public func text(rationale: String) -> String {
        "Why it matters: \(rationale)\n\nHow to fix: \(fix)\n\nExample (wrong):\n\(wrong)\n\nExample (right):\n\(right)\n"
    }

    /// Markdown help, with a link to the check's section in docs/checks.md.
    func markdown(rationale: String) -> String {
        """
        **Why it matters.** \(rationale)

        **How to fix.** \(fix)

        Wrong:

        ```c
        \(wrong)
        ```

        Right:

        ```c
        \(right)
        ```

        [Documentation](\(UnbindCheckVersion.checkDocumentationURL(id)))
        """
    }

    public static let all: [RuleHelp] = [
        RuleHelp(
            id: "devm-embedded-refcount",
            fix: "Allocate the struct with kzalloc() and free it in the release callback of the embedded object (kfree(container_of(...))); or let the core allocate it with its own *_alloc() and drop it with the matching put. Never devm_* memory for an object someone else can hold a reference to.",
            wrong: """
                struct foo { struct mtd_info mtd; };
                foo = devm_kzalloc(&pdev->dev, sizeof(*foo), GFP_KERNEL);
                mtd_device_register(&foo->mtd, NULL, 0);   /* freed at unbind, /dev/mtdX may still be open */
                """,
            right: """
                foo = kzalloc(sizeof(*foo), GFP_KERNEL);
                foo->dev.release = foo_release;            /* kfree(container_of(dev, struct foo, dev)) */
                device_register(&foo->dev);                /* remove(): device_unregister(), release frees */
                """),
        RuleHelp(
            id: "empty-release",
            fix: "Free the container in the release: kfree(container_of(dev, struct foo, dev)), and allocate it with kzalloc(), not devm_*.",
            wrong: "static void foo_release(struct device *dev) { }",
            right: "static void foo_release(struct device *dev) { kfree(container_of(dev, struct foo, dev)); }"),
        RuleHelp(
            id: "release-devm-free",
            fix: "Allocate the object with kzalloc() and free it with kfree() in the release; devres must not own memory whose lifetime the reference count decides.",
            wrong: "static void foo_release(struct device *dev) { devm_kfree(dev->parent, to_foo(dev)); }",
            right: "static void foo_release(struct device *dev) { kfree(to_foo(dev)); }"),
        RuleHelp(
            id: "kfree-outside-release",
            fix: "After device_initialize()/a failed device_register(), call put_device() (cdev_del(), kobject_put()) instead of kfree(); after unregister, let the release free the struct.",
            wrong: """
                if (device_register(&foo->dev)) {
                        kfree(foo);                        /* the refcount is live: release will run too */
                        return -ENODEV;
                }
                """,
            right: """
                if (device_register(&foo->dev)) {
                        put_device(&foo->dev);             /* foo_release() frees foo */
                        return -ENODEV;
                }
                """),
        RuleHelp(
            id: "missing-release",
            fix: "Set a release callback for the device (dev->release, its device_type or class) or kobj_type (.release) that frees the containing struct.",
            wrong: "static const struct kobj_type foo_ktype = { .sysfs_ops = &kobj_sysfs_ops };",
            right: "static const struct kobj_type foo_ktype = { .release = foo_release, .sysfs_ops = &kobj_sysfs_ops };"),
        RuleHelp(
            id: "unrevoked-provider-ops",
            fix: "Revoke under SRCU: unregister clears the provider's callbacks and data and calls synchronize_srcu(); every user takes srcu_read_lock(), re-checks them and fails with -ENODEV when they are gone.",
            wrong: """
                int core_read(struct core_dev *c, void *buf)
                {
                        return c->ops->read(c->priv, buf);  /* provider may be unbound */
                }
                """,
            right: """
                int core_read(struct core_dev *c, void *buf)
                {
                        int idx = srcu_read_lock(&c->srcu), ret = -ENODEV;
                        if (c->ops)
                                ret = c->ops->read(c->priv, buf);
                        srcu_read_unlock(&c->srcu, idx);
                        return ret;
                }
                /* unregister: c->ops = NULL; synchronize_srcu(&c->srcu); */
                """),
        RuleHelp(
            id: "missing-put-on-failure",
            fix: "When device_register() (device_add(), kobject_init_and_add(), or a helper that returns their failure) fails, drop the reference it initialized with put_device() (kobject_put()) before returning; the release frees the struct.",
            wrong: """
                ret = device_register(&foo->dev);
                if (ret)
                        return ret;                        /* foo and its name leak */
                """,
            right: """
                ret = device_register(&foo->dev);
                if (ret) {
                        put_device(&foo->dev);             /* foo_release() frees foo */
                        return ret;
                }
                """),
    ]
}
