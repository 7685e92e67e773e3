package main; import "unsafe" // addr_then_load: *(&x) is x's value: what x holds escapes, x does not
var g unsafe.Pointer
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(a); _ = v
    g = v
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
