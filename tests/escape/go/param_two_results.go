package main; import "unsafe" // param_two_results: each parameter names the result it reaches and the level
func two(p, q unsafe.Pointer) (unsafe.Pointer, unsafe.Pointer) {
    var a unsafe.Pointer; a = *(*unsafe.Pointer)(p); _ = a
    return q, a
return nil, nil }
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    var px unsafe.Pointer; px = unsafe.Pointer(&x); _ = px
    var y unsafe.Pointer; y = unsafe.Pointer(new([1]unsafe.Pointer)); _ = y
    var r0, r1 unsafe.Pointer; r0, r1 = two(px, y); _, _ = r0, r1
    println(r0)
    println(r1)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
