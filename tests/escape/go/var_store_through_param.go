package main; import "unsafe" // var_store_through_param: *p = &x is a store to the heap, whatever p is
func put(p unsafe.Pointer) {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    *(*unsafe.Pointer)(p) = a
}
func main() {
    var slot unsafe.Pointer; _ = slot
    var s unsafe.Pointer; s = unsafe.Pointer(&slot); _ = s
    put(s)
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(s); _ = v
    println(v)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
