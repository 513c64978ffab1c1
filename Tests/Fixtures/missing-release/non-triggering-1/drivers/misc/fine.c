#include <linux/device.h>
struct fine { int id; struct device dev; };
static void fine_release(struct device *dev) { kfree(container_of(dev, struct fine, dev)); }
static int fine_add(struct fine *l)
{
        l->dev.release = fine_release;
        return device_register(&l->dev);
}