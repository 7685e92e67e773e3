package main; import "unsafe" // loop_var_holder: a var of the function body holding a loop's allocation: the allocation escapes, the var stays
func main() {
    var h unsafe.Pointer; _ = h
    for i_ := 0; i_ < 2; i_++ {
        var n unsafe.Pointer; n = unsafe.Pointer(new([1]unsafe.Pointer)); _ = n
        h = n
    }
    var p unsafe.Pointer; p = unsafe.Pointer(&h); _ = p
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(p); _ = v
    println(v)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
