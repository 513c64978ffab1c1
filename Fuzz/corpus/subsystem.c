#include <linux/device.h>
struct widget { int id; struct device dev; struct completion done; };
static void widget_release(struct device *dev)
{
	struct widget *w = container_of(dev, struct widget, dev);
	complete(&w->done);
}
static const struct device_type widget_type = { .name = "widget", .release = widget_release };
int widget_add(struct widget *w)
{
	struct device *dev = &w->dev;
	dev->type = &widget_type;
	return device_register(dev);
}
#define widget_register(w) widget_add(w)
static int probe(struct platform_device *pdev)
{
	struct widget *w = devm_kzalloc(&pdev->dev, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	return widget_register(w);
}
