package main; import "unsafe" // call_noescape_callee: &x passed to a callee whose parameter does not escape: x stays
func peek(p unsafe.Pointer) {
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(p); _ = v
    println(v)
}
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    peek(a)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
