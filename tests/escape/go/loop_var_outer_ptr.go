package main; import "unsafe" // loop_var_outer_ptr: &x of a loop's var kept in an outer name: x moves
func main() {
    var p unsafe.Pointer; p = nil; _ = p
    for i_ := 0; i_ < 2; i_++ {
        var x unsafe.Pointer; _ = x
        p = unsafe.Pointer(&x)
    }
    println(p)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
