package main; import "unsafe" // spec_example: the example of escape-ir.md
var g unsafe.Pointer
func keep(p unsafe.Pointer) {
    g = p
}
func id(p unsafe.Pointer) unsafe.Pointer {
    return p
return nil }
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    keep(a)
    var b unsafe.Pointer; b = unsafe.Pointer(new([2]unsafe.Pointer)); _ = b
    var c unsafe.Pointer; c = id(b); _ = c
    println(c)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
