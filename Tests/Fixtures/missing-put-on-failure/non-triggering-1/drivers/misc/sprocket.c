#include <linux/device.h>
struct sprocket { int id; struct device dev; };
static void sprocket_release(struct device *dev)
{
        kfree(container_of(dev, struct sprocket, dev));
}
int sprocket_add(int id)
{
        struct sprocket *s = kzalloc(sizeof(*s), 0);
        int ret;

        if (!s)
                return -12;
        s->id = id;
        s->dev.release = sprocket_release;
        ret = device_register(&s->dev);
        if (ret) {
                put_device(&s->dev);
                return ret;
        }
        return 0;
}
