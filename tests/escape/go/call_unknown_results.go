package main; import "unsafe" // call_unknown_results: unknown code gets every argument; its results carry nothing
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([1]unsafe.Pointer)); _ = b
    var r unsafe.Pointer; r = ext(a); _ = r
    println(r)
    println(b)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
var ext func(unsafe.Pointer) unsafe.Pointer // unknown code
