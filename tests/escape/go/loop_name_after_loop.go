package main; import "unsafe" // loop_name_after_loop: a name first defined in a loop and read after it holds values across iterations
func main() { var p unsafe.Pointer; _ = p
    for i_ := 0; i_ < 2; i_++ {
        p = unsafe.Pointer(new([1]unsafe.Pointer))
    }
    println(p)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
