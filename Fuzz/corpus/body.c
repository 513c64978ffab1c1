static int __init f(struct a *p, const char *fmt, ...)
{
	u32 v = (__force u32)(unsigned long)p->x[2].y;
	struct b *q = kzalloc(struct_size(q, items, p->n), GFP_KERNEL);
	list_for_each_entry(q, &p->list, node) {
		if (q->flags & BIT(3) || !q->ok)
			goto out;
	}
	switch (v) { case 1 ... 3: v <<= 2; break; default: v = v ? : 4; }
	q->name = DRV "-x";
	return ({ int t = v; t; });
out:
	kfree(q);
	return -EINVAL;
}
EXPORT_SYMBOL_GPL(f);
