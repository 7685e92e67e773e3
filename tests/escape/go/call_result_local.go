package main; import "unsafe" // call_result_local: the result stays local, so does x
func id(p unsafe.Pointer) unsafe.Pointer {
    return p
return nil }
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    var y unsafe.Pointer; y = id(a); _ = y
    println(y)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
