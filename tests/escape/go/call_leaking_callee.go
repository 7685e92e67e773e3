package main; import "unsafe" // call_leaking_callee: &x passed to a callee that leaks its parameter: x moves
var g unsafe.Pointer
func keep(p unsafe.Pointer) {
    g = p
}
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    keep(a)
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
