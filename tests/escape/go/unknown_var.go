package main; import "unsafe" // unknown_var: &x passed to unknown code moves x
func main() {
    var x unsafe.Pointer; _ = x
    var a unsafe.Pointer; a = unsafe.Pointer(&x); _ = a
    ext(a)
    println(a)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
var ext func(unsafe.Pointer) // unknown code
