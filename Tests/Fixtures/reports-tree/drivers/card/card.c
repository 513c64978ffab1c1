#include <linux/flash.h>
struct card { struct flash_info fl; int slots; };
static int card_probe(struct platform_device *pdev)
{
        struct card *k = devm_kzalloc(&pdev->dev, sizeof(*k), 0);
        return flash_register(&k->fl);
}
