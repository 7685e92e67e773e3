package main; import "unsafe" // loop_read_before_def: q reads the previous iteration's p, so p holds across iterations
// (names are function-scoped: the Go version declares p at the top of main, which keeps it across iterations too)
func main() { var p unsafe.Pointer; _ = p
    for i_ := 0; i_ < 3; i_++ {
        var q unsafe.Pointer; q = p; _ = q
        println(q)
        p = unsafe.Pointer(new([1]unsafe.Pointer))
    }
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
