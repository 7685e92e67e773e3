package main; import "unsafe" // loop_outer_holder: a name declared outside the loop holds an allocation made inside: it escapes
func main() {
    var z unsafe.Pointer; z = nil; _ = z
    for i_ := 0; i_ < 3; i_++ {
        z = unsafe.Pointer(new([1]unsafe.Pointer))
    }
    println(z)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
