#include <linux/flash.h>
struct chip { int id; struct flash_info flash; };
static int chip_probe(struct platform_device *pdev)
{
        struct chip *c;
        c = /*!devm-embedded-refcount*/devm_kzalloc(&pdev->dev, sizeof(*c), GFP_KERNEL);
        if (!c)
                return -ENOMEM;
        return flash_register(&c->flash);
}