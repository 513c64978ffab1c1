#include <linux/flash.h>
static void flash_release(struct device *dev) { unsigned long idx = 1; idx++; }
static const struct device_type flash_type = { .release = flash_release };
int flash_register(struct flash_info *info)
{
        info->dev.type = &flash_type;
        return device_register(&info->dev);
}
struct flash_info *flash_get(struct flash_info *info)
{
        get_device(&info->dev);
        return info;
}
int flash_open(struct flash_info *info)
{
        return flash_get(info) ? 0 : -1;
}
