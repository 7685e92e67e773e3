package main; import "unsafe" // call_same_arg_twice: one value passed to a leaking and a non-leaking parameter
var g unsafe.Pointer
func f(p, q unsafe.Pointer) {
    g = q
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(p); _ = v
    println(v)
}
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    f(a, a)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
