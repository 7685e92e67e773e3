package main; import "unsafe" // loop_sibling_loops: &x taken in one loop, used in the next: the holder outlives x's loop
func main() { var p unsafe.Pointer; _ = p
    for i_ := 0; i_ < 1; i_++ {
        var x unsafe.Pointer; _ = x
        p = unsafe.Pointer(&x)
    }
    for i_ := 0; i_ < 1; i_++ {
        var v unsafe.Pointer; v = *(*unsafe.Pointer)(p); _ = v
        println(v)
    }
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
