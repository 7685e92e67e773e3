package main; import "unsafe" // param_unused: parameters with no flow do not escape
func f(p, q unsafe.Pointer) {
}
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    f(a, a)
    println(a)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
