package main; import "unsafe" // ir_hoisting_differs: t is first defined in a loop and redefined before every later read
// go: differs: Go cannot scope t like the IR; declared at the top of main, Go gives t depth 1 and moves the loop's allocation to the heap, while the spec gives t the depth of its first definition (2) and liveness shows no value crosses an iteration
func main() { var t unsafe.Pointer; _ = t
    for i_ := 0; i_ < 2; i_++ {
        t = unsafe.Pointer(new([1]unsafe.Pointer))
    }
    t = unsafe.Pointer(new([1]unsafe.Pointer))
    println(t)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
