#include <linux/device.h>
struct widget { int id; struct device dev; };
static void widget_remove(struct widget *w)
{
        device_unregister(&w->dev);
        /*!kfree-outside-release*/kfree(w);
}