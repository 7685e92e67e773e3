package main; import "unsafe" // loop_zero_count: a loop that never runs is still a loop for the analysis
func main() {
    var z unsafe.Pointer; z = nil; _ = z
    for i_ := 0; i_ < 0; i_++ {
        z = unsafe.Pointer(new([1]unsafe.Pointer))
    }
    println(z)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
