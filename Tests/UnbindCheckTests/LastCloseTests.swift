import Testing
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks

/// `kfree-outside-release` on a character device's last close: the `.release` of the file
/// operations a cdev is opened through frees the cdev's container, after which the VFS
/// still drops the file's reference on the cdev.
@Suite struct LastCloseTests {
    /// A channel whose file operations' release runs `close` (a statement list).
    static func channel(_ close: String) -> [String: String] {
        [
            "drivers/misc/chan.c": """
                #include <linux/device.h>
                struct chan { struct kref kref; struct cdev cdev; int gone; };
                struct open_ctx { int n; };
                static void chan_free(struct chan *c)
                {
                        kfree(c);
                }
                static void chan_kref_release(struct kref *kref)
                {
                        struct chan *c = container_of(kref, struct chan, kref);
                        kfree(c);
                }
                static void chan_put(struct chan *c)
                {
                        kref_put(&c->kref, chan_kref_release);
                }
                static int chan_release(struct inode *inode, struct file *file)
                {
                        struct chan *c = container_of(inode->i_cdev, struct chan, cdev);
                        struct open_ctx *ctx = file->private_data;
                        \(close)
                        return 0;
                }
                static const struct file_operations chan_fops = {
                        .owner = THIS_MODULE,
                        .release = chan_release,
                };
                int chan_create(struct device *parent)
                {
                        struct chan *c = kzalloc(sizeof(*c), 0);
                        if (!c)
                                return -12;
                        kref_init(&c->kref);
                        cdev_init(&c->cdev, &chan_fops);
                        return cdev_add(&c->cdev, 0, 1);
                }
                """,
        ]
    }

    func run(_ close: String) -> [String] {
        findings(of: "kfree-outside-release", in: Self.channel(close)).map { "\($0.line) \($0.severity) \($0.function) \($0.notes.map(\.line))" }
    }

    @Test func theReleaseFreeingTheContainerIsAnError() {
        #expect(run("kfree(c);") == ["21 error chan_release [34]"])
        // Only once the device is gone, through a helper.
        #expect(run("if (c->gone)\n                chan_free(c);") == ["22 error chan_release [35]"])
    }

    @Test func theLastPutOfTheContainersKrefIsAnError() {
        let put = findings(of: "kfree-outside-release", in: Self.channel("chan_put(c);"))
        #expect(put.map { "\($0.line) \($0.function)" } == ["21 chan_release"])
        #expect(put.first?.message.contains("through chan_put()") == true)
        let direct = findings(of: "kfree-outside-release", in: Self.channel("kref_put(&c->kref, chan_kref_release);"))
        #expect(direct.first?.message.contains("through kref_put() and its release chan_kref_release()") == true)
    }

    @Test func freeingOtherMemoryOnCloseIsNoFinding() {
        #expect(run("kfree(ctx);").isEmpty)
        #expect(run("c->gone = 1;").isEmpty)
    }
}
