#include <linux/device.h>
struct widget { int id; struct device dev; };
static void widget_remove(struct widget *w, struct widget *v)
{
        /* <script>alert("x")</script> & "quotes" */
        device_unregister(&w->dev);
        kfree(w);
        device_unregister(&v->dev);
        kfree(v);
}
