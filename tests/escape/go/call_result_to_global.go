package main; import "unsafe" // call_result_to_global: the callee's tag sends &x to the result, which the caller leaks
var g unsafe.Pointer
func id(p unsafe.Pointer) unsafe.Pointer {
    return p
return nil }
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    var y unsafe.Pointer; y = id(a); _ = y
    g = y
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
