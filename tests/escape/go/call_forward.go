package main; import "unsafe" // call_forward: a callee defined after its caller is analysed first
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    var r unsafe.Pointer; r = later(a); _ = r
    println(r)
}
func later(p unsafe.Pointer) unsafe.Pointer {
    var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
    return q
return nil }

// Declarations the IR does not spell out.
var _ unsafe.Pointer
