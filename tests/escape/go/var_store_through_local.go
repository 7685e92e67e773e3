package main; import "unsafe" // var_store_through_local: a store through a pointer to a local var still goes to the heap
func main() {
    var y unsafe.Pointer; _ = y
    var x unsafe.Pointer; _ = x
    var q unsafe.Pointer; q = unsafe.Pointer(&y); _ = q
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    *(*unsafe.Pointer)(q) = a
    var v unsafe.Pointer; v = y; _ = v
    println(v)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
