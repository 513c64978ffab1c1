struct widget_config { int (*reg_read)(void *priv, int off); void *priv; };
struct widget_device { struct device dev; struct mutex lock; struct srcu_struct srcu; int exists;
                       int (*reg_read)(void *priv, int off); void *priv; struct completion done; };