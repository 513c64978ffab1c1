#include <linux/device.h>
struct holder { struct device *dev; int x; };
static int holder_probe(struct platform_device *pdev)
{
        struct holder *h = devm_kzalloc(&pdev->dev, sizeof(*h), GFP_KERNEL);
        h->dev = &pdev->dev;
        return device_register(h->dev);
}