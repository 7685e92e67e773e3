package main; import "unsafe" // var_self_assign: x = x adds no flow
var g unsafe.Pointer
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    x = x
    var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
    p = p
    var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
    println(q)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
