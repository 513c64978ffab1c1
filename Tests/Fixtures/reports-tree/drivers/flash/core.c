#include <linux/flash.h>
int flash_register(struct flash_info *info)
{
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
