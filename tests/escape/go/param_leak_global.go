package main; import "unsafe" // param_leak_global: a parameter stored in a global leaks; so does the caller's argument
var g unsafe.Pointer
func keep(p unsafe.Pointer) {
    g = p
}
func main() {
    var n unsafe.Pointer; n = unsafe.Pointer(new([1]unsafe.Pointer)); _ = n
    keep(n)
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
