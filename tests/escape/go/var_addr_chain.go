package main; import "unsafe" // var_addr_chain: y holds &x and &y leaks: both move
var g unsafe.Pointer
func main() {
    var x unsafe.Pointer; _ = x
    var y unsafe.Pointer; _ = y
    y = unsafe.Pointer(&x)
    var p unsafe.Pointer; p = unsafe.Pointer(&y); _ = p
    g = p
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
