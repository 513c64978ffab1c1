#include <linux/device.h>
struct real { int id; struct device dev; };
static void real_release(struct device *dev)
{
        kfree(container_of(dev, struct real, dev));
}
static const struct device_type real_type = { .release = real_release };