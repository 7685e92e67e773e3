package main; import "unsafe" // loop_carried_var: p keeps &x into the next iteration, where x's stack slot is zeroed again
// (names are function-scoped: the Go version declares p at the top of main, which keeps it across iterations too)
func main() { var p unsafe.Pointer; _ = p
    for i_ := 0; i_ < 2; i_++ {
        var x unsafe.Pointer; _ = x
        if p != nil {
            var v unsafe.Pointer; v = *(*unsafe.Pointer)(p); _ = v
            println(v)
        }
        x = unsafe.Pointer(new([1]unsafe.Pointer))
        p = unsafe.Pointer(&x)
    }
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
