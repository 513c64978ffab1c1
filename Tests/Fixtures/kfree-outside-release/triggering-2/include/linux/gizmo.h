#include <linux/device.h>
struct gizmo_ctrl { int instance; struct device dev; };
int gizmo_init_ctrl(struct gizmo_ctrl *ctrl);
