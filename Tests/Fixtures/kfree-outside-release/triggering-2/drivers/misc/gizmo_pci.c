#include <linux/gizmo.h>
struct gizmo_pci { struct gizmo_ctrl ctrl; int irq; };
static struct gizmo_pci *gizmo_pci_alloc(void)
{
        struct gizmo_pci *dev = kzalloc(sizeof(*dev), 0);

        if (!dev)
                return NULL;
        if (gizmo_init_ctrl(&dev->ctrl)) {
                /*!kfree-outside-release*/kfree(dev);
                return NULL;
        }
        return dev;
}
