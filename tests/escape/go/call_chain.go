package main; import "unsafe" // call_chain: tags compose bottom-up through a chain of calls
var g unsafe.Pointer
func c(p unsafe.Pointer) {
    g = p
}
func b(p unsafe.Pointer) {
    c(p)
}
func a(p unsafe.Pointer) {
    b(p)
}
func main() {
    var x unsafe.Pointer; _ = x
    var px unsafe.Pointer; px = unsafe.Pointer(&x); _ = px
    a(px)
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
