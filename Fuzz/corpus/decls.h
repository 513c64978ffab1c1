#ifndef DECLS_H
#define DECLS_H
#if 0
stale text with 'quotes
#endif
typedef struct { struct kref ref; union { long a; struct { int b : 3; }; }; } thing_t;
struct holder {
	thing_t things[4];
	void (*cb)(struct holder *h, int n);
	struct_group(hdr, int v; struct kobject kobj;);
	DECLARE_BITMAP(map, 64);
} __randomize_layout;
static inline struct holder *to_holder(struct kobject *k) { return container_of(k, struct holder, kobj); }
extern int x __aligned(8);
#endif
