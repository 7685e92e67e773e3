package main; import "unsafe" // param_leak_result: a parameter returned leaks to the result only
func id(p unsafe.Pointer) unsafe.Pointer {
    return p
return nil }
func main() {
    var n unsafe.Pointer; n = unsafe.Pointer(new([1]unsafe.Pointer)); _ = n
    var m unsafe.Pointer; m = id(n); _ = m
    println(m)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
