package main; import "unsafe" // global_read: reading a global feeds nothing; writing one feeds the heap
var g unsafe.Pointer
var h unsafe.Pointer
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    h = a
    var p unsafe.Pointer; p = g; _ = p
    p = h
    var q unsafe.Pointer; q = unsafe.Pointer(new([1]unsafe.Pointer)); _ = q
    g = p
    println(g)
    println(q)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
