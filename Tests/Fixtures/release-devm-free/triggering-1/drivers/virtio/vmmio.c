#include <linux/device.h>
struct vdev { int index; struct device dev; };
struct vmmio { struct device *parent; struct vdev vdev; };
static void vmmio_release(struct device *_d)
{
        struct vmmio *vm = container_of(_d, struct vmmio, vdev.dev);
        /*!release-devm-free*/devm_kfree(vm->parent, vm);
}
static int vmmio_probe(struct platform_device *pdev)
{
        struct vmmio *vm = devm_kzalloc(&pdev->dev, sizeof(*vm), 0);
        vm->parent = &pdev->dev;
        vm->vdev.dev.release = vmmio_release;
        return device_register(&vm->vdev.dev);
}