package main; import "unsafe" // loop_var_inner_ptr: &x kept inside the same iteration: x stays
func main() {
    for i_ := 0; i_ < 2; i_++ {
        var x unsafe.Pointer; _ = x
        var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
        println(p)
    }
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
