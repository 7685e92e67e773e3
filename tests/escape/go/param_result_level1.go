package main; import "unsafe" // param_result_level1: returning *p leaks p's content to the result
func deref(p unsafe.Pointer) unsafe.Pointer {
    var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
    return q
return nil }
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    var r unsafe.Pointer; r = deref(a); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
