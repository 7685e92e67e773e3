package main; import "unsafe" // call_content_callee: the callee leaks what p points to: x stays, what x holds escapes
var g unsafe.Pointer
func f(p unsafe.Pointer) {
    var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
    g = q
}
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    f(a)
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
