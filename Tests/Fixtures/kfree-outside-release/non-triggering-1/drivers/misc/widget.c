#include <linux/device.h>
struct widget { int id; struct device dev; };
static void widget_release(struct device *dev)
{
        kfree(container_of(dev, struct widget, dev));
}
static void widget_remove(struct widget *w)
{
        device_unregister(&w->dev);
}