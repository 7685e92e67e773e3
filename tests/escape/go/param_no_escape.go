package main; import "unsafe" // param_no_escape: reading through parameters keeps them local
func f(p, q unsafe.Pointer) {
    var a unsafe.Pointer; a = *(*unsafe.Pointer)(p); _ = a
    var b unsafe.Pointer; b = unsafe.Add(q, 8); _ = b
    println(a)
    println(b)
}
func main() {
    var x unsafe.Pointer; x = unsafe.Pointer(new([2]unsafe.Pointer)); _ = x
    var y unsafe.Pointer; y = unsafe.Pointer(new([2]unsafe.Pointer)); _ = y
    f(x, y)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
