import Facts
import Indexing

/// The driver core's own vocabulary: refcounted core objects, allocators, and the calls
/// that publish or tear down an object. Everything subsystem-specific is inferred from the
/// tree; only these names are built in.
public enum DriverCore {
    /// Refcounted objects whose embedding makes a struct's lifetime refcount-driven.
    public static let coreObjects: [String] = ["device", "kobject", "kref", "cdev"]

    /// An allocator and which argument carries the size.
    public struct Allocator: Sendable {
        public var name: String
        var sizeArgument: Int
        /// Argument holding a source object whose type is the allocation's (`kmemdup`).
        var sourceArgument: Int?
        public var isDeviceManaged: Bool
    }

    public static let allocators: [String: Allocator] = {
        var a: [String: Allocator] = [:]
        func add(_ n: String, _ size: Int, devm: Bool, source: Int? = nil) {
            a[n] = Allocator(name: n, sizeArgument: size, sourceArgument: source, isDeviceManaged: devm)
        }
        add("devm_kzalloc", 1, devm: true); add("devm_kmalloc", 1, devm: true)
        add("devm_kcalloc", 2, devm: true); add("devm_kmalloc_array", 2, devm: true)
        add("devm_kmemdup", 2, devm: true, source: 1); add("devm_krealloc", 2, devm: true)
        add("devm_krealloc_array", 3, devm: true)
        add("kzalloc", 0, devm: false); add("kmalloc", 0, devm: false); add("kcalloc", 1, devm: false)
        add("kmalloc_array", 1, devm: false); add("kmemdup", 1, devm: false, source: 0); add("krealloc", 1, devm: false)
        add("kzalloc_node", 0, devm: false); add("kmalloc_node", 0, devm: false); add("kcalloc_node", 1, devm: false)
        add("kvzalloc", 0, devm: false); add("kvmalloc", 0, devm: false); add("kvcalloc", 1, devm: false)
        add("kvmalloc_array", 1, devm: false); add("vzalloc", 0, devm: false); add("vmalloc", 0, devm: false)
        return a
    }()

    /// Calls that make an embedded object reachable from outside (argument index → object).
    public static let publishers: [String: [Int]] = [
        "device_add": [0], "device_register": [0], "device_initialize": [0],
        "cdev_add": [0], "cdev_device_add": [0, 1],
        "kobject_add": [0], "kobject_init_and_add": [0], "kobject_init": [0],
        "kset_register": [0],
    ]

    /// Calls whose argument is a container of the core object rather than the object: the
    /// member they publish or tear down (`kset_register(k)` adds `&k->kobj`).
    static let argumentMember: [String: [String]] = [
        "kset_register": ["kobj"], "kset_unregister": ["kobj"],
    ]

    /// Publishers that undo themselves when they fail (`kset_register()` frees the name
    /// and leaves nothing published, and its callers are documented to kfree() the kset):
    /// freeing after their failure is right.
    public static let undoneOnFailure: Set<String> = ["kset_register"]

    /// Publishers whose failure leaves nothing to undo: a failed `cdev_add()` frees the name
    /// it set and maps nothing, so freeing the cdev's container right after is correct
    /// (only a later failure, once it succeeded, needs `cdev_del()`).
    public static let undoesOwnFailure: Set<String> = ["cdev_add"]

    /// The path, inside what argument `path` names, of the object a core call acts on.
    public static func objectPath(_ callee: String, _ path: [String]) -> [String] {
        guard let m = argumentMember[callee] else { return path }
        return path + m
    }

    /// Calls that leave the object's reference count initialized when they fail (argument
    /// index → object): the documented way out of their failure is a put, never a free
    /// (`device_register()`: "_Never_ directly free @dev after calling this function, even if
    /// it returned an error!"). `device_add()` and `kobject_add()` run on an object already
    /// initialized; `cdev_device_add()` leaves its device so.
    public static let failureKeepsReference: [String: Int] = [
        "device_register": 0, "device_add": 0, "kobject_init_and_add": 0, "kobject_add": 0, "cdev_device_add": 1,
    ]

    /// Publishers that only initialize the reference count (the object becomes refcounted
    /// but is not yet visible to anyone): never called "registration" in messages.
    public static let initializers: Set<String> = ["device_initialize", "kobject_init"]

    /// Initializers of a bare reference count (`SharedCounts.swift`): they allocate
    /// nothing, so they publish nothing by themselves.
    public static let countInitializers: Set<String> = ["kref_init"]

    /// Calls that take one more reference on a bare reference count (`kref_get(&x->ref)`):
    /// a count someone gets is shared with its users.
    public static let countGets: Set<String> = ["kref_get", "kref_get_unless_zero"]

    /// How to drop an initialized object of each core kind instead of freeing it.
    public static let dropCall: [String: String] = [
        "device": "put_device()", "kobject": "kobject_put()", "cdev": "cdev_del()", "kref": "kref_put()",
    ]

    /// Teardowns that only drop a reference (the documented way out of a failed
    /// registration), as opposed to unregistering the object.
    public static let referencePuts: Set<String> = ["put_device", "kobject_put", "kref_put"]

    /// Calls that unpublish or drop the reference of an object.
    public static let teardowns: [String: [Int]] = [
        "device_del": [0], "device_unregister": [0], "put_device": [0],
        "kobject_put": [0], "kobject_del": [0], "cdev_del": [0], "cdev_device_del": [0, 1],
        "kset_unregister": [0],
    ]

    /// Teardowns that unpublish (not only drop a reference): sysfs attributes are drained
    /// and bound drivers unbound before they return.
    static let unpublishers: Set<String> = ["device_del", "device_unregister", "cdev_device_del", "kobject_del", "kset_unregister"]

    /// Callback slots a bus or driver core calls when a driver is unbound from a device
    /// (`struct platform_driver.remove`, `usb_driver.disconnect`, a component's `.unbind`,
    /// a bus's `.remove_slave`, …): the driver's unbind path.
    static func isUnbindSlot(_ slot: String) -> Bool {
        slot.contains("remove") || slot == "unbind" || slot == "disconnect" || slot == "detach"
    }
    /// `devm_add_action(dev, fn, data)`: `fn(data)` runs when the driver is unbound.
    static let devmActions: [String: Int] = ["devm_add_action": 1, "devm_add_action_or_reset": 1]
    /// Calls that hand devres something to undo at unbind: an action or a block of its own.
    public static let devresActions: Set<String> = Set(devmActions.keys).union(["devres_add"])

    /// Calls that return or take a counted reference to an object: what a lookup that hands
    /// an object to a consumer does.
    public static let referenceGets: Set<String> = deviceLookups.union(plainGets)

    /// The gets among `referenceGets` that take one more reference on an object the caller
    /// already has (a later put in the same function balances them).
    public static let plainGets: Set<String> = [
        "get_device", "kobject_get", "kobject_get_unless_zero", "kref_get", "kref_get_unless_zero",
    ]

    /// The lookups among `referenceGets` that return a counted device found by a match
    /// (the device is the caller's to put).
    public static let deviceLookups: Set<String> = [
        "class_find_device", "class_find_device_by_name", "class_find_device_by_of_node", "class_find_device_by_fwnode",
        "class_find_device_by_devt", "bus_find_device", "bus_find_device_by_name", "bus_find_device_by_of_node",
        "bus_find_device_by_fwnode", "device_find_child", "device_find_child_by_name", "driver_find_device",
    ]

    /// Calls that make an object reachable from user space through a character device:
    /// an open file then holds a reference to it.
    public static let characterDevices: Set<String> = [
        "cdev_add", "cdev_device_add", "register_chrdev", "__register_chrdev", "misc_register", "device_create",
    ]

    /// Frees of heap memory.
    public static let frees: Set<String> = ["kfree", "kvfree", "kfree_sensitive", "vfree", "kfree_rcu", "kzfree"]
    /// Frees of device-managed memory.
    public static let devmFrees: Set<String> = ["devm_kfree"]
    /// Completion signalling and waiting.
    static let completionSignals: Set<String> = ["complete", "complete_all"]
    public static let completionWaits: Set<String> = [
        "wait_for_completion", "wait_for_completion_interruptible", "wait_for_completion_killable",
        "wait_for_completion_timeout", "wait_for_completion_io", "wait_for_completion_state",
    ]
    /// Waits on a wait queue until a condition holds (users gone).
    static let waitEvents: Set<String> = [
        "wait_event", "wait_event_interruptible", "wait_event_killable", "wait_event_timeout",
        "wait_var_event", "wait_event_idle", "wait_on_bit",
    ]
    /// Revocation primitives: SRCU/RCU grace periods that unregister waits for.
    static let revocationWaits: Set<String> = ["synchronize_srcu", "synchronize_rcu", "synchronize_srcu_expedited", "synchronize_rcu_expedited"]
    /// Every call with a parameter effect by itself: publishers, teardowns and frees.
    static let effectCalls: Set<String> = Set(publishers.keys).union(teardowns.keys).union(frees)
    /// `kref_put(ref, release, …)`: calls `release(ref)` when the count drops to zero.
    public static let krefPuts: Set<String> = ["kref_put", "kref_put_mutex", "kref_put_lock"]
    /// For a `kref_put(ref, release, …)` call naming its release: the release and the
    /// `ref` argument's node.
    static func krefRelease(_ c: CallSite, in exprs: ExprTree) -> (release: String, ref: Int32)? {
        guard krefPuts.contains(c.callee) else { return nil }
        let args = exprs.arguments(c.node)
        guard args.count >= 2, exprs[args[args.startIndex + 1]].kind == .identifier else { return nil }
        return (exprs.text(exprs[args[args.startIndex + 1]]), args[args.startIndex])
    }
    /// Calls that register or unregister a class itself, giving it no device.
    static let classRegistrations: Set<String> = ["class_register", "class_unregister"]
    /// `container_of` and its spellings.
    static let containerOf: Set<String> = ["container_of", "container_of_const", "list_entry", "hlist_entry", "container_of_safe"]
    /// Calls that make an error pointer (`include/linux/err.h`): a return of one returns no object.
    public static let errorPointers: Set<String> = ["ERR_PTR", "ERR_CAST"]
    /// Release-like callback slots in designated initializers and assignments.
    static let releaseSlots: Set<String> = ["release", "dev_release"]
    /// Callback slots the driver core itself calls (attribute visibility at registration,
    /// bus probe/remove at bind and unbind, release at the last put): not consumer entries.
    static let coreCallbackSlots: Set<String> = releaseSlots.union([
        "is_visible", "is_bin_visible", "probe", "remove", "shutdown", "shutdown_pre", "match", "uevent",
    ])
}
