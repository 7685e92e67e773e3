package main; import "unsafe" // new_to_global: an allocation stored in a global escapes
var g unsafe.Pointer
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([4]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([4]unsafe.Pointer)); _ = b
    g = a
    println(g)
    println(b)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
