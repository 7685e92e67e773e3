package main; import "unsafe" // param_reassigned: the analysis is flow-insensitive: p's location leaks even after p is reassigned
var g unsafe.Pointer
func f(p unsafe.Pointer) {
    p = unsafe.Pointer(new([1]unsafe.Pointer))
    g = p
}
func main() {
    var n unsafe.Pointer; n = unsafe.Pointer(new([1]unsafe.Pointer)); _ = n
    f(n)
    println(n)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
