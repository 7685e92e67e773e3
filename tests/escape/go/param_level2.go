package main; import "unsafe" // param_level2: two loads deep: level=2
func dd(p unsafe.Pointer) unsafe.Pointer {
    var a unsafe.Pointer; a = *(*unsafe.Pointer)(p); _ = a
    var b unsafe.Pointer; b = *(*unsafe.Pointer)(a); _ = b
    return b
return nil }
func main() {
    var x unsafe.Pointer; _ = x
    var y unsafe.Pointer; _ = y
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    y = unsafe.Pointer(&x)
    var p unsafe.Pointer; p = unsafe.Pointer(&y); _ = p
    var r unsafe.Pointer; r = dd(p); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
