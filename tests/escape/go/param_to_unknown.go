package main; import "unsafe" // param_to_unknown: passing a parameter to unknown code leaks it
func f(p, q unsafe.Pointer) {
    ext(p)
    println(q)
}
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([1]unsafe.Pointer)); _ = b
    f(a, b)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
var ext func(unsafe.Pointer) // unknown code
