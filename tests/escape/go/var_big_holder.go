package main; import "unsafe" // var_big_holder: what a heap-only var holds escapes with it
func main() {
    var x unsafe.Pointer; _ = x
    var big [1310721]unsafe.Pointer; _ = big
    big[0] = unsafe.Pointer(&x)
    var v unsafe.Pointer; v = big[0]; _ = v
    println(v)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
