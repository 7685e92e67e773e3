package main; import "unsafe" // call_result_discarded: a discarded result carries no flow
func id(p unsafe.Pointer) unsafe.Pointer {
    return p
return nil }
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    id(a)
    println(a)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
