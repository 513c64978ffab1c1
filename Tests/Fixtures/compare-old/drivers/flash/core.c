#include <linux/flash.h>
int flash_register(struct flash_info *info)
{
        return device_register(&info->dev);
}
