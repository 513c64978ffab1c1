#include <linux/device.h>
static void /*!empty-release*/dummy_release(struct device *dev)
{
}
static const struct device_type dummy_type = { .name = "dummy", .release = dummy_release };