#include <linux/device.h>
static void gadget_release(struct device *dev)
{
}
static const struct device_type gadget_type = { .name = "gadget", .release = gadget_release };
