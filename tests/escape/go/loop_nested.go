package main; import "unsafe" // loop_nested: depth 3 into depth 2 escapes; depth 3 into depth 3 does not
func main() {
    for i_ := 0; i_ < 2; i_++ {
        var a unsafe.Pointer; a = nil; _ = a
        for i_ := 0; i_ < 2; i_++ {
            var b unsafe.Pointer; b = unsafe.Pointer(new([1]unsafe.Pointer)); _ = b
            a = b
            var c unsafe.Pointer; c = unsafe.Pointer(new([1]unsafe.Pointer)); _ = c
            println(c)
        }
        println(a)
    }
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
