#include <linux/flash.h>
struct chip { int id; struct flash_info flash; };
static int chip_probe(struct platform_device *pdev)
{
        struct chip *c = devm_kzalloc(&pdev->dev, sizeof(*c), 0);
        if (!c)
                return -12;
        return flash_register(&c->flash);
}
