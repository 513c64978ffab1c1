#include <linux/device.h>
struct vdev { int index; struct device dev; };
struct vmmio { struct device *parent; struct vdev vdev; };
static void vmmio_release(struct device *_d)
{
        struct vmmio *vm = container_of(_d, struct vmmio, vdev.dev);
        kfree(vm);
}
static int vmmio_probe(struct platform_device *pdev)
{
        struct vmmio *vm = kzalloc(sizeof(*vm), 0);
        vm->vdev.dev.release = vmmio_release;
        return device_register(&vm->vdev.dev);
}