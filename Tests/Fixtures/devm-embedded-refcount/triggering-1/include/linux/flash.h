#include <linux/device.h>
struct flash_info { int size; struct device dev; };
int flash_register(struct flash_info *info);