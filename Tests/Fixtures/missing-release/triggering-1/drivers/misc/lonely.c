#include <linux/device.h>
struct lonely { int id; struct device dev; };
static int lonely_add(struct lonely *l)
{
        return /*!missing-release*/device_register(&l->dev);
}