package main; import "unsafe" // new_zero: a zero-sized allocation is still a site with a decision
var g unsafe.Pointer
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([0]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([0]unsafe.Pointer)); _ = b
    g = b
    println(a)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
