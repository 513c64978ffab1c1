#include <linux/gizmo.h>
int gizmo_init_ctrl(struct gizmo_ctrl *ctrl)
{
        int ret;

        device_initialize(&ctrl->dev);
        ret = dev_set_name(&ctrl->dev, "gizmo%d", ctrl->instance);
        if (ret)
                goto out;
        ret = device_add(&ctrl->dev);
        if (ret)
                goto out;
        ret = gizmo_setup(ctrl);
        if (ret)
                goto out_del;
        return 0;
out_del:
        device_del(&ctrl->dev);
out:
        return ret;
}
