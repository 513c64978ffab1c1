#include <linux/gizmo.h>
int gizmo_init_ctrl(struct gizmo_ctrl *ctrl)
{
        if (ctrl->instance < 0)
                goto out;
        device_initialize(&ctrl->dev);
        return 0;
out:
        return -22;
}
