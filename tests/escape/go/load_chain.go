package main; import "unsafe" // load_chain: two loads then a leak: content at derefs 2 still reads "content"
var g unsafe.Pointer
func f(p unsafe.Pointer) {
    var a unsafe.Pointer; a = *(*unsafe.Pointer)(p); _ = a
    var b unsafe.Pointer; b = *(*unsafe.Pointer)(a); _ = b
    g = b
}
func main() {
    var x unsafe.Pointer; _ = x
    var y unsafe.Pointer; _ = y
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    y = unsafe.Pointer(&x)
    var p unsafe.Pointer; p = unsafe.Pointer(&y); _ = p
    f(p)
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
