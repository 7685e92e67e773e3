package main; import "unsafe" // field_of_var: &x + 8 is still x
var g unsafe.Pointer
func main() {
    var x [2]unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    var b unsafe.Pointer; b = unsafe.Add(a, 8); _ = b
    g = b
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
