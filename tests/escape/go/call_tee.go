package main; import "unsafe" // call_tee: one argument, two tag flows (heap at level 1, result at level 0) through a temporary
var g unsafe.Pointer
func h(p unsafe.Pointer) unsafe.Pointer {
    var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
    g = q
    return p
return nil }
func main() {
    var n unsafe.Pointer; n = unsafe.Pointer(new([1]unsafe.Pointer)); _ = n
    var r unsafe.Pointer; r = h(n); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
