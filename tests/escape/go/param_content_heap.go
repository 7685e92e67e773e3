package main; import "unsafe" // param_content_heap: storing *p in a global leaks p's content, not p
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
