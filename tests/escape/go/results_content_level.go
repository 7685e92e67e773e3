package main; import "unsafe" // results_content_level: content to the heap at level 2, value to the result
var g unsafe.Pointer
func f(p unsafe.Pointer) unsafe.Pointer {
    var a unsafe.Pointer; a = *(*unsafe.Pointer)(p); _ = a
    var b unsafe.Pointer; b = *(*unsafe.Pointer)(a); _ = b
    g = b
    return p
return nil }
func main() {
    var x unsafe.Pointer; _ = x
    var y unsafe.Pointer; _ = y
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    y = unsafe.Pointer(&x)
    var p unsafe.Pointer; p = unsafe.Pointer(&y); _ = p
    var r unsafe.Pointer; r = f(p); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
