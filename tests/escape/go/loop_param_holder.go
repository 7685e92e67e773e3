package main; import "unsafe" // loop_param_holder: parameters are at depth 1, outside every loop
func f(p unsafe.Pointer) {
    for i_ := 0; i_ < 2; i_++ {
        p = unsafe.Pointer(new([1]unsafe.Pointer))
    }
    println(p)
}
func main() {
    var n unsafe.Pointer; n = nil; _ = n
    f(n)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
