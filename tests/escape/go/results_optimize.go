package main; import "unsafe" // results_optimize: a result flow no shorter than the heap flow is dropped (leaks.Optimize)
var g unsafe.Pointer
func f(p unsafe.Pointer) (unsafe.Pointer, unsafe.Pointer) {
    var a unsafe.Pointer; a = *(*unsafe.Pointer)(p); _ = a
    g = a
    return a, p
return nil, nil }
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    var px unsafe.Pointer; px = unsafe.Pointer(&x); _ = px
    var r0, r1 unsafe.Pointer; r0, r1 = f(px); _, _ = r0, r1
    println(r0)
    println(r1)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
