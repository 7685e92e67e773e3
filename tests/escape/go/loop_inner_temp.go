package main; import "unsafe" // loop_inner_temp: an allocation held only by a name of the same loop does not escape
func main() {
    for i_ := 0; i_ < 3; i_++ {
        var z unsafe.Pointer; z = unsafe.Pointer(new([1]unsafe.Pointer)); _ = z
        println(z)
    }
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
