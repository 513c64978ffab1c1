import Facts
import Indexing
import Analysis
import Findings

/// Minimal kernel declarations for the checks' examples, written from the documented API.
enum KernelPrelude {
    public static let device = """
        struct kref { int refcount; };
        struct kobject { const char *name; struct kref kref; };
        struct device_type { const char *name; void (*release)(struct device *dev); };
        struct class { const char *name; void (*dev_release)(struct device *dev); };
        struct device { struct kobject kobj; struct device *parent; const struct device_type *type;
                        const struct class *class; void (*release)(struct device *dev); };
        struct cdev { struct kobject kobj; int count; };
        struct completion { unsigned int done; };
        struct platform_device { const char *name; struct device dev; };
        int device_register(struct device *dev);
        void device_unregister(struct device *dev);
        void device_initialize(struct device *dev);
        int device_add(struct device *dev);
        void device_del(struct device *dev);
        void put_device(struct device *dev);
        void *devm_kzalloc(struct device *dev, unsigned long size, int gfp);
        void devm_kfree(struct device *dev, const void *p);
        void *kzalloc(unsigned long size, int gfp);
        void kfree(const void *p);
        void complete(struct completion *c);
        void wait_for_completion(struct completion *c);
        #define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
        """
}
