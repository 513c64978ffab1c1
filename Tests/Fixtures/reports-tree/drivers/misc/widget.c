#include <linux/device.h>
/* <script>alert("x")</script> & "quotes" */
struct widget { int id; struct device dev; };
static void widget_remove(struct widget *w, struct widget *v)
{
        device_unregister(&w->dev);
        kfree(w);
        device_unregister(&v->dev);
        kfree(v);
}
