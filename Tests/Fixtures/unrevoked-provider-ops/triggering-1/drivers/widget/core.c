#include <linux/device.h>
#include <linux/widget.h>
static void widget_release(struct device *dev)
{
	kfree(container_of(dev, struct widget_device, dev));
}
struct widget_device *widget_register(const struct widget_config *config)
{
	struct widget_device *w;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	w->reg_read = config->reg_read;
	w->priv = config->priv;
	w->exists = 1;
	device_initialize(&w->dev);
	w->dev.release = widget_release;
	device_add(&w->dev);
	return w;
}
EXPORT_SYMBOL(widget_register);
void /*!unrevoked-provider-ops*/widget_unregister(struct widget_device *w)
{
	device_unregister(&w->dev);
}
EXPORT_SYMBOL(widget_unregister);
static int widget_do_read(struct widget_device *w, int off)
{
	return w->reg_read(w->priv, off);
}
int widget_read(struct widget_device *w, int off)
{
	return widget_do_read(w, off);
}
EXPORT_SYMBOL(widget_read);
struct widget_device *widget_find(const char *name)
{
	struct widget_device *w = widget_lookup(name);
	get_device(&w->dev);
	return w;
}
EXPORT_SYMBOL(widget_find);