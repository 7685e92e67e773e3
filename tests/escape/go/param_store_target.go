package main; import "unsafe" // param_store_target: *p = q leaks q; p itself does not escape
func set(p, q unsafe.Pointer) {
    *(*unsafe.Pointer)(p) = q
}
func main() {
    var slot unsafe.Pointer; _ = slot
    var x unsafe.Pointer; _ = x
    var s unsafe.Pointer; s = unsafe.Pointer(&slot); _ = s
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    set(s, a)
    var v unsafe.Pointer; v = slot; _ = v
    println(v)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
