#include <linux/device.h>
struct dummy { int id; struct device dev; };
static void dummy_release(struct device *dev)
{
}
static const struct device_type dummy_type = { .name = "dummy", .release = dummy_release };
